"""Evaluate agents on task suites with programmatic scoring; report success, steps, tokens, cost.

    python -m hubkit.agents.evaluate --seeds 5 --out benchmarks/results/agents-eval
    python -m hubkit.agents.evaluate --model serve:runs/my-gpt --seeds 3
    python -m hubkit.agents.evaluate --model openai --base-url http://127.0.0.1:8000/v1 \\
        --model-name qwen2.5-1.5b-instruct

Suites (every number, name and file is drawn afresh from the seed, so an answer
cannot be hard-coded):

* tool_use: "Compute EXPR." (calculator) and "What number is written in the
  file F?" (read_file in a scratch folder);
* rag: questions about services whose ports and teams are drawn per run,
  written as fact cards among the shipped documents (hubkit/agents/data/docs);
  success needs the right value, every claim citing a retrieved chunk
  (faithfulness 1.0) and the citation of the chunk that holds the fact;
  retrieval recall@k is reported for the same questions;
* multi_step: read a number from a file, multiply it, add to it (two tools).

Each task exposes only the tools it needs. `--team critic` runs each task as a
worker plus a critic (hubkit.agents.multi.critic_loop) instead of one agent.

Models: `policy` (default; hubkit.agents.policy, a hand-written policy, not a
language model: its scores measure the harness and tools), `scripted` (an
agent that always answers "I don't know": the floor), `serve:DIR` (hubkit's
OpenAI-compatible server over a local HF model folder, started on 127.0.0.1,
driven through the openai client; `serve:tiny` writes a random tiny GPT-2
first), and `openai` (any server: --base-url, --model-name, --api-key-env).

The report gives per suite the success rate with a 95% confidence interval
over seeds (Student t over per-seed rates), mean steps, tokens and cost, and
recall@k for rag. Every run's JSONL trace is kept under traces/.
"""

from __future__ import annotations

import json
import math
import os
import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hubkit import runlog
from hubkit.agents import rag
from hubkit.agents.retrieval import (
    Chunk,
    Hit,
    chunk_text,
    load_folder,
    make_index,
    recall_at_k,
    words,
)

DOCS = Path(__file__).parent / "data" / "docs"
SUITES = ("tool_use", "rag", "multi_step")
CODENAMES = ("atlas", "borealis", "cygnus", "draco", "eridanus", "fornax", "gemini", "hydra",
             "indus", "lyra", "mensa", "norma", "orion", "pavo", "reticulum", "sculptor")
TEAMS = ("storage", "billing", "search", "identity", "payments", "telemetry", "frontend")
T95 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26,
       10: 2.23, 15: 2.13, 20: 2.09, 30: 2.04}


@dataclass
class Task:
    """One task: the prompt, the tools it may use, and how to score a run."""

    suite: str
    prompt: str
    tools: list[str]
    score: Callable[[str | None], bool]
    info: dict = field(default_factory=dict)


def _number_is(want: float) -> Callable[[str | None], bool]:
    def score(answer: str | None) -> bool:
        import re

        found = re.findall(r"-?\d+(?:\.\d+)?", answer or "")
        return bool(found) and abs(float(found[-1]) - want) < 1e-6
    return score


def tool_use_tasks(rng: random.Random, files: Path, n: int) -> list[Task]:
    tasks = []
    for i in range(n):
        if i % 2 == 0:
            a, b, c = rng.randint(12, 999), rng.randint(2, 99), rng.randint(1, 500)
            expr = f"({a} * {b}) - {c}"
            tasks.append(Task("tool_use", f"Compute {expr}. Reply with the number only.",
                              ["calculator"], _number_is(a * b - c), {"expression": expr}))
        else:
            name, value = f"note_{rng.randint(1000, 9999)}.txt", rng.randint(10, 10**6)
            (files / name).write_text(f"The value recorded here is {value}.\n")
            tasks.append(Task("tool_use", f"What number is written in the file {name}? Reply "
                              "with the number only.", ["read_file"], _number_is(value)))
    return tasks


def multi_step_tasks(rng: random.Random, files: Path, n: int) -> list[Task]:
    tasks = []
    for _ in range(n):
        name, value = f"data_{rng.randint(1000, 9999)}.txt", rng.randint(2, 500)
        m, a = rng.randint(2, 40), rng.randint(1, 900)
        (files / name).write_text(f"measurement: {value}\n")
        tasks.append(Task("multi_step", f"Read the number in the file {name}, multiply it by "
                          f"{m}, then add {a}. Reply with the number only.",
                          ["read_file", "calculator"], _number_is(value * m + a)))
    return tasks


def fact_cards(rng: random.Random, n: int) -> tuple[str, list[dict]]:
    """A document of `n` service fact cards (one paragraph each) and the facts drawn."""
    facts = [{"name": name.capitalize(), "port": rng.randint(1024, 65000),
              "team": rng.choice(TEAMS)}
             for name in rng.sample(CODENAMES, n)]
    text = "\n\n".join(f"The {f['name']} service listens on port {f['port']} and is maintained "
                       f"by the {f['team']} team." for f in facts)
    return text, facts


def rag_tasks(rng: random.Random, chunks: list[Chunk], facts: list[dict], n: int) -> list[Task]:
    tasks = []
    for f in facts[:n]:
        relevant = next(c.id for c in chunks if f"The {f['name']} service" in c.text)
        ask_port = rng.random() < 0.5
        question = f"Which port does the {f['name']} service listen on?" if ask_port else \
            f"Which team maintains the {f['name']} service?"
        want = str(f["port"]) if ask_port else f["team"]
        tasks.append(Task("rag", question + " Cite your source.", ["search"],
                          _cites(want, relevant, chunks),
                          {"relevant": relevant, "question": question}))
    return tasks


def _cites(want: str, relevant: str, chunks: list[Chunk]) -> Callable[[str | None], bool]:
    """Right value, the fact's chunk cited, and every claim supported by what it cites."""
    hits = [Hit(c.id, c.text, c.source, 1.0) for c in chunks]

    def score(answer: str | None) -> bool:
        return bool(answer) and want.lower() in answer.lower() and f"[{relevant}]" in answer \
            and rag.faithfulness(answer, hits)["score"] == 1.0
    return score


# ------------------------------------------------------------------ running


def build_world(seed: int, work: Path, per_suite: int, suites: tuple[str, ...]):
    """Files, the document index and the tasks for one seed."""
    rng = random.Random(seed)
    files = work / f"seed{seed}" / "files"
    files.mkdir(parents=True, exist_ok=True)
    text, facts = fact_cards(rng, max(per_suite, 4))
    chunks = load_folder(DOCS) + chunk_text(text, "services.md", max_words=25)
    index = make_index()
    index.add(chunks)
    builders = {"tool_use": lambda: tool_use_tasks(rng, files, per_suite),
                "rag": lambda: rag_tasks(rng, chunks, facts, per_suite),
                "multi_step": lambda: multi_step_tasks(rng, files, per_suite)}
    return files, index, [t for s in suites for t in builders[s]()]


def run_task(task: Task, model, tools: list, team: str, max_steps: int, budget: int,
             trace_path: Path, critic=None) -> dict:
    """One task, scored: success, steps (model calls), tokens, cost, faithfulness."""
    from hubkit.agents.multi import critic_loop
    from hubkit.agents.react import Agent
    from hubkit.agents.trace import Trace

    agent = Agent(model, tools, max_steps=max_steps, token_budget=budget, trace=Trace(trace_path))
    if team == "critic":
        scoped = _Scoped(agent, task.tools)
        result = critic_loop(scoped, critic, task.prompt, rounds=1)
        answer, tokens, steps, cost = result.answer, result.tokens, scoped.steps, scoped.cost
    else:
        run = agent.run(task.prompt, tools=task.tools)
        answer, tokens, steps, cost = run.answer, run.tokens, run.steps, run.cost_usd
    return {"suite": task.suite, "success": bool(task.score(answer)), "steps": steps,
            "tokens": tokens, "cost_usd": cost, "answer": answer}


class _Scoped:
    """An agent restricted to a task's tools, counting steps and cost over several runs."""

    def __init__(self, agent, tools: list[str]) -> None:
        self.agent, self.tools, self.steps, self.cost = agent, tools, 0, 0.0

    def run(self, prompt: str):
        r = self.agent.run(prompt, tools=self.tools)
        self.steps, self.cost = self.steps + r.steps, self.cost + r.cost_usd
        return r


def retrieval_recall(index, tasks: list[Task], k: int) -> float:
    rag_tasks_ = [t for t in tasks if t.suite == "rag"]
    if not rag_tasks_:
        return float("nan")
    got = [[h.id for h in index.search(" ".join(words(t.info["question"])), k)]
           for t in rag_tasks_]
    return recall_at_k(got, [{t.info["relevant"]} for t in rag_tasks_], k)


def mean_ci(values: list[float]) -> tuple[float, float]:
    """Mean and the half-width of a 95% Student-t interval (0 for one value)."""
    m = statistics.fmean(values)
    if len(values) < 2:
        return m, 0.0
    df = len(values) - 1
    t = T95.get(df) or T95[max(k for k in T95 if k <= df)]
    return m, t * statistics.stdev(values) / math.sqrt(len(values))


def summarize(rows: list[dict], recalls: list[float], seeds: list[int]) -> dict:
    """Per-suite statistics over seeds (the report's numbers)."""
    out = {}
    for suite in sorted({r["suite"] for r in rows}):
        per_seed = [statistics.fmean(r["success"] for r in rows
                                     if r["suite"] == suite and r["seed"] == s) for s in seeds]
        rate, half = mean_ci(per_seed)
        mine = [r for r in rows if r["suite"] == suite]
        out[suite] = {"success_rate": rate, "ci95": half, "tasks": len(mine),
                      "steps": statistics.fmean(r["steps"] for r in mine),
                      "tokens": statistics.fmean(r["tokens"] for r in mine),
                      "cost_usd": statistics.fmean(r["cost_usd"] for r in mine)}
    if "rag" in out and recalls:
        out["rag"]["recall_at_k"] = statistics.fmean(recalls)
    return out


def markdown(summary: dict, meta: dict) -> str:
    lines = [f"# Agent evaluation: {meta['model']} ({meta['team']})", "",
             f"Seeds {meta['seeds']}, {meta['per_suite']} tasks per suite and seed, "
             f"max {meta['max_steps']} steps, token budget {meta['token_budget']}. "
             f"{meta['what_it_measures']}", "",
             "| suite | success (95% CI over seeds) | steps | tokens | cost $ | recall@k |",
             "| --- | --- | --- | --- | --- | --- |"]
    for suite, s in summary.items():
        rec = f"{s['recall_at_k']:.2f}" if "recall_at_k" in s else ""
        lines.append(f"| {suite} | {s['success_rate']:.2f} ± {s['ci95']:.2f} | {s['steps']:.1f} "
                     f"| {s['tokens']:.0f} | {s['cost_usd']:.4f} | {rec} |")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ models and command line

MEANING = {
    "policy": "The model is hubkit.agents.policy, a hand-written rule policy, not a language "
              "model: these numbers measure the harness, tools, retrieval and protocols.",
    "scripted": "The model always answers 'I don't know.': the floor every suite must sit on.",
    "serve": "The model is a local Hugging Face model behind `hubkit serve`, driven through the "
             "openai client over HTTP on 127.0.0.1.",
    "openai": "The model is served by an OpenAI-compatible server.",
}


def make_model(args, outputs: runlog.Outputs, stack):
    """(model, critic model) for `--model` (module docstring)."""
    from hubkit.agents.models import FunctionModel, OpenAIChatModel
    from hubkit.agents.policy import policy_model

    if args.model == "policy":
        critic = policy_model(0.0, 0, "rule-critic")
        return policy_model(args.slip, args.seed_base or 0), critic
    if args.model == "scripted":
        unsure = FunctionModel(lambda msgs, tools: "I don't know.", "always-unsure")
        return unsure, unsure
    if args.model.startswith("serve:"):
        return _served(args.model[6:], args, outputs, stack)
    if args.model == "openai":
        if not args.base_url or not args.model_name:
            raise SystemExit("error: --model openai needs --base-url and --model-name")
        m = OpenAIChatModel(args.model_name, args.base_url,
                            api_key=os.environ.get(args.api_key_env, "not-needed"),
                            price_per_mtok=(args.price_in, args.price_out))
        return m, m
    raise SystemExit(f"error: --model {args.model!r}: use policy, scripted, serve:DIR or openai")


def _served(folder: str, args, outputs: runlog.Outputs, stack):
    from hubkit.agents.local import TransformersChatModel, write_tiny_gpt2
    from hubkit.agents.models import OpenAIChatModel
    from hubkit.agents.serve import BackgroundServer, create_app

    if folder == "tiny":
        folder = str(write_tiny_gpt2(Path(stack.enter_context(_tempdir())) / "tiny-gpt2"))
    local = TransformersChatModel(folder, max_new_tokens=args.max_tokens_cap)
    server = stack.enter_context(BackgroundServer(create_app(local, local.name,
                                                             args.max_tokens_cap)))
    client = OpenAIChatModel(local.name, server.url + "/v1", timeout=300,
                             max_tokens=args.max_tokens_cap)
    return client, client


def _tempdir():
    import tempfile

    return tempfile.TemporaryDirectory(prefix="hubkit-agents-eval-")


def add_model_arguments(p) -> None:
    """The options that choose the model (shared with hubkit.agents.capstone)."""
    p.add_argument("--model", default="policy",
                   help="policy (default), scripted, serve:MODEL_DIR (serve:tiny: a random "
                   "tiny GPT-2) or openai")
    p.add_argument("--seed-base", type=int, default=None,
                   help="first seed (default: drawn at random, recorded in the report)")
    p.add_argument("--slip", type=float, default=0.0,
                   help="policy model only: chance that a final number is off by one")
    p.add_argument("--max-tokens-cap", type=int, default=64,
                   help="serve: tokens a reply may generate")
    p.add_argument("--base-url", default=None, help="openai: the server, e.g. "
                   "http://127.0.0.1:8000/v1")
    p.add_argument("--model-name", default=None, help="openai: the model's name on the server")
    p.add_argument("--api-key-env", default="OPENAI_API_KEY",
                   help="openai: environment variable holding the key")
    p.add_argument("--price-in", type=float, default=0.0, help="$ per million input tokens")
    p.add_argument("--price-out", type=float, default=0.0, help="$ per million output tokens")


def _parser():
    p = runlog.parser("python -m hubkit.agents.evaluate", __doc__, "agents-eval")
    p.add_argument("--seeds", type=int, default=5, help="runs with fresh parameters (default 5)")
    p.add_argument("--per-suite", type=int, default=4, help="tasks per suite and seed")
    p.add_argument("--suites", default=",".join(SUITES), help="comma-separated subset of "
                   + ", ".join(SUITES))
    p.add_argument("--team", choices=("single", "critic"), default="single",
                   help="one agent, or a worker with a critic (default single)")
    p.add_argument("--max-steps", type=int, default=6, help="model calls per agent run")
    p.add_argument("--token-budget", type=int, default=20_000, help="tokens per agent run")
    p.add_argument("--k", type=int, default=3, help="k of recall@k")
    p.add_argument("--traces", type=Path, default=None,
                   help="folder for the runs' JSONL traces (default: OUT/traces)")
    add_model_arguments(p)
    return p


def evaluate(args, outputs: runlog.Outputs, track, stack) -> dict:
    """Run every seed's tasks; returns the report (also written by `main`)."""
    from hubkit.agents.toolbox import FileTools, calculator_tool, search_tool

    model, critic = make_model(args, outputs, stack)
    suites = tuple(s for s in args.suites.split(",") if s)
    unknown = set(suites) - set(SUITES)
    if unknown:
        raise SystemExit(f"error: --suites: unknown {sorted(unknown)}; known {list(SUITES)}")
    base = args.seed_base if args.seed_base is not None else random.SystemRandom().randrange(10**6)
    seeds = [base + i for i in range(args.seeds)]
    work = Path(stack.enter_context(_tempdir()))
    rows, recalls = [], []
    total = args.seeds * args.per_suite * len(suites)
    with runlog.Progress(total, "task", enabled=not args.quiet, tracker=track) as bar:
        for seed in seeds:
            files, index, tasks = build_world(seed, work, args.per_suite, suites)
            tools = [*FileTools(files).tools(), calculator_tool(), search_tool(index, args.k)]
            recalls.append(retrieval_recall(index, tasks, args.k)) if "rag" in suites else None
            for i, task in enumerate(tasks):
                trace = (args.traces or outputs.folder() / "traces") / \
                    f"seed{seed}-{i:02d}-{task.suite}.jsonl"
                row = run_task(task, model, tools, args.team, args.max_steps, args.token_budget,
                               trace, critic)
                rows.append({"seed": seed, "task": task.prompt, **row})
                bar.update(success=float(row["success"]), tokens=row["tokens"])
    kind = args.model.split(":")[0]
    meta = {"model": args.model, "team": args.team, "seeds": seeds, "per_suite": args.per_suite,
            "max_steps": args.max_steps, "token_budget": args.token_budget, "k": args.k,
            "slip": args.slip, "what_it_measures": MEANING[kind]}
    return {"meta": meta, "summary": summarize(rows, recalls, seeds), "rows": rows}


def main(argv: list[str] | None = None) -> int:
    import contextlib

    args = _parser().parse_args(argv)
    outputs = runlog.Outputs(args.out, args._run_name)
    with contextlib.ExitStack() as stack, runlog.quiet_third_party(), \
            runlog.tracker(args, outputs) as track:
        report = evaluate(args, outputs, track, stack)
    outputs.path("report.json").write_text(json.dumps(report, indent=1, default=str) + "\n")
    outputs.path("report.md").write_text(markdown(report["summary"], report["meta"]))
    traces = args.traces or outputs.root / "traces"
    print(f"traces: {traces}/ (show one with `hubkit agents trace FILE`)")
    print(markdown(report["summary"], report["meta"]))
    outputs.report()
    return 0


if __name__ == "__main__":
    runlog.run_main(main)
