"""Train a byte-level BPE tokenizer on offline text and write it out.

    python -m hubkit.tokenizers.train                          # pydoc text, vocab 4096, ~1 s C++
    python -m hubkit.tokenizers.train --text stdlib --vocab-size 8192
    python -m hubkit.tokenizers.train --text my.txt --pattern gpt2 --backend reference

Text sources need no download: "pydoc" is Python's own documentation
(pydoc_data.topics, ~0.47M characters of English), "stdlib" the sources of
a few standard-library packages, anything else a UTF-8 file. The last 10%
is held out to measure compression (bytes per token). Writes under `--out`:
tokenizer.json (BPETokenizer.load reads it), tokenizer_hf.json (Hugging Face
`tokenizers`, for PreTrainedTokenizerFast), summary.json and sample.txt.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hubkit import runlog
from hubkit.tokenizers.tokenizer import BPETokenizer

STDLIB_MODULES = ("json", "email", "http", "logging", "unittest", "asyncio")
SAMPLE = "Tokenizers turn text into ids: naïve café, 12345 apples, and def f(x): return x**2"


@dataclass
class TrainConfig:
    """What to train on and how big."""

    text: str = "pydoc"
    """'pydoc', 'stdlib' or a path to a UTF-8 text file"""
    vocab_size: int = 4096
    """bytes (256) + merges + special tokens"""
    pattern: str = "gpt4"
    """'gpt4', 'gpt2' or a regex"""
    special_tokens: list[str] = field(default_factory=lambda: ["<|endoftext|>"])
    max_chars: int | None = None
    """use only the first this many characters (None: all)"""
    backend: str | None = None
    """'cpp' or 'reference'; None picks C++ when built"""


def load_text(source: str) -> str:
    """The training text named by `source` (see TrainConfig.text)."""
    if source == "pydoc":
        import pydoc_data.topics as topics

        return "\n\n".join(topics.topics.values())
    if source == "stdlib":
        import importlib
        import inspect

        parts = []
        for name in STDLIB_MODULES:
            folder = Path(inspect.getfile(importlib.import_module(name))).parent
            parts += [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.py"))]
        return "\n\n".join(parts)
    path = Path(source)
    if not path.is_file():
        raise ValueError(f"text: expected 'pydoc', 'stdlib' or a file, got {source!r}")
    return path.read_text(encoding="utf-8")


def bytes_per_token(tok: BPETokenizer, text: str) -> float:
    """Compression on `text`: UTF-8 bytes per token (1.0 means no merges helped)."""
    ids = tok.encode_ordinary(text)
    return len(text.encode("utf-8")) / max(1, len(ids))


def show_tokens(tok: BPETokenizer, text: str) -> str:
    """`text` with its tokens separated by '|' (a token that is part of a character as \\x..)."""
    ids = tok.encode_ordinary(text)
    return "|".join(tok.decode_bytes([i]).decode("utf-8", "backslashreplace") for i in ids)


def train(cfg: TrainConfig, out: runlog.Outputs, quiet: bool = False) -> dict:
    """Train, evaluate, write the files; returns the summary."""
    with runlog.Progress(4, "bpe", enabled=not quiet, min_interval=0) as bar:
        text = load_text(cfg.text)[:cfg.max_chars]
        cut = int(len(text) * 0.9)
        bar.update(stage="loaded", chars=len(text))
        start = time.perf_counter()
        tok = BPETokenizer(cfg.pattern, backend=cfg.backend)
        tok.train(text[:cut], cfg.vocab_size, cfg.special_tokens)
        seconds = time.perf_counter() - start
        bar.update(stage="trained", seconds=round(seconds, 2))
        summary = {"config": asdict(cfg), "backend": tok.backend, "vocab_size": tok.vocab_size,
                   "merges": len(tok.merges), "train_chars": cut, "train_seconds": seconds,
                   "heldout_bytes_per_token": bytes_per_token(tok, text[cut:])}
        bar.update(stage="evaluated", bytes_per_token=round(summary["heldout_bytes_per_token"], 2))
        tok.save(out.path("tokenizer.json"))
        tok.to_huggingface(out.path("tokenizer_hf.json"))
        out.path("sample.txt").write_text(show_tokens(tok, SAMPLE) + "\n", encoding="utf-8")
        out.path("summary.json").write_text(json.dumps(summary, indent=2))
        bar.update(stage="written")
    return summary


def main(argv: list[str] | None = None) -> dict:
    p = runlog.parser("python -m hubkit.tokenizers.train", __doc__, "bpe")
    defaults = TrainConfig()
    p.add_argument("--text", default=defaults.text,
                   help="'pydoc' (default), 'stdlib' or a path to a UTF-8 text file")
    p.add_argument("--vocab-size", type=int, default=defaults.vocab_size)
    p.add_argument("--pattern", default=defaults.pattern, help="'gpt4', 'gpt2' or a regex")
    p.add_argument("--special", nargs="*", default=defaults.special_tokens,
                   help="special tokens (default: <|endoftext|>)")
    p.add_argument("--max-chars", type=int, default=None, help="use only the first N characters")
    p.add_argument("--backend", choices=["cpp", "reference"], default=None)
    args = p.parse_args(argv)
    cfg = TrainConfig(args.text, args.vocab_size, args.pattern, list(args.special),
                      args.max_chars, args.backend)
    out = runlog.Outputs(args.out, args._run_name)
    with runlog.tracker(args, out) as track:
        track.config(asdict(cfg))
        summary = train(cfg, out, quiet=args.quiet)
        track.log(1, merges=summary["merges"], train_seconds=summary["train_seconds"],
                  heldout_bytes_per_token=summary["heldout_bytes_per_token"])
    print(f"{summary['merges']} merges in {summary['train_seconds']:.2f} s "
          f"({summary['backend']}); held-out: {summary['heldout_bytes_per_token']:.2f} "
          "bytes per token")
    out.report()
    return summary


if __name__ == "__main__":
    runlog.run_main(main)
