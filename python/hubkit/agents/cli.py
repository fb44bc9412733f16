"""The agents' commands in the `hubkit` CLI: `serve`, `agents trace | eval | capstone`.

Building these parsers imports nothing heavy (no torch, transformers, openai,
fastapi): each command imports what it needs when it runs. `agents eval` and
`agents capstone` hand their arguments to `python -m hubkit.agents.evaluate`
and `python -m hubkit.agents.capstone`, whose `--help` lists them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def cmd_serve(args) -> int:
    """Serve a local Hugging Face causal LM over the OpenAI chat-completions protocol."""
    from hubkit.agents.serve import serve

    if not (Path(args.model_dir) / "config.json").is_file():
        print(f"error: {args.model_dir} is not a model folder (no config.json)", file=sys.stderr)
        return 2
    serve(str(args.model_dir), host=args.host, port=args.port,
          max_tokens_cap=args.max_tokens_cap, temperature=args.temperature, device=args.device)
    return 0


def cmd_trace(args) -> int:
    """Show an agent run's JSONL trace: model calls, tool calls, tokens, latency, answer."""
    from hubkit.agents.trace import show

    if not Path(args.file).is_file():
        print(f"error: no trace file {args.file}", file=sys.stderr)
        return 2
    show(args.file, sys.stdout, width=args.width)
    return 0


def cmd_eval(args) -> int:
    """Run the agent evaluation suites (options: `hubkit agents eval --help`)."""
    from hubkit.agents.evaluate import main

    return main(args.rest)


def cmd_capstone(args) -> int:
    """The research assistant over a folder of PDFs (options: `hubkit agents capstone --help`)."""
    from hubkit.agents.capstone import main

    return main(args.rest)


def add_commands(sub, add) -> None:
    """Register `serve` and `agents` on the `hubkit` sub-parsers; `add` is cli._add."""
    p = add(sub, "serve", cmd_serve, "OpenAI-compatible server over a local causal LM.")
    p.add_argument("model_dir", type=Path, metavar="MODEL_DIR",
                   help="A Hugging Face model folder (config.json, weights, tokenizer).")
    p.add_argument("--host", default="127.0.0.1", help="Address to listen on (default: "
                   "127.0.0.1; the server has no authentication).")
    p.add_argument("--port", type=int, default=8000, help="Port (default: 8000).")
    p.add_argument("--max-tokens-cap", type=int, default=512,
                   help="Most tokens one request may generate (default: 512).")
    p.add_argument("--temperature", type=float, default=0.0,
                   help="Default sampling temperature (default: 0, greedy).")
    p.add_argument("--device", default="cpu", help="torch device (default: cpu).")
    p = add(sub, "agents", lambda a: (p.print_help(), 2)[1], "Agents: traces, evaluation, "
            "capstone.")
    agents = p.add_subparsers(title="agents commands", metavar="COMMAND")
    t = add(agents, "trace", cmd_trace, "Show a run's JSONL trace.")
    t.add_argument("file", help="A trace file written by an agent run (JSONL).")
    t.add_argument("--width", type=int, default=100, help="Characters per field shown.")
    for name, fn, help_ in (("eval", cmd_eval, "Run the evaluation suites, write a report."),
                            ("capstone", cmd_capstone, "Research assistant over PDFs.")):
        e = add(agents, name, fn, help_, prefix_chars="\0", add_help=False)
        e.add_argument("rest", nargs=argparse.REMAINDER, help="passed on")
