"""Character-level LSTM language model: train on an offline corpus, then generate text.

The key project of section 4.2 (Karpathy, "The Unreasonable Effectiveness of
Recurrent Neural Networks", 2015): an LSTM reads text one character at a time
and learns to predict the next one; sampling from its predictions, with a
temperature, writes new text.

    python -m hubkit.rnn.train charlm --out runs/charlm            # ~10 min, 2 CPU cores
    python -m hubkit.rnn.train charlm --steps 20 --hidden 32 --out /tmp/tiny   # seconds

The corpus is Python's own documentation topics (`pydoc_data.topics`, shipped
with CPython, about 800 kB of English and code), or any UTF-8 file given with
--corpus. The run writes checkpoint.pt (model, vocabulary, config, step),
loss.png, samples.txt (text at several temperatures) and summary.json.

    python -m hubkit.rnn.train sentiment --out runs/sentiment       # ~1 min

compares an LSTM with a bag-of-words baseline on generated reviews where
"not" flips the sentiment (`hubkit.rnn.sentiment`); writes summary.json.

Shape legend: B batch, T time (characters), V vocabulary size, H hidden size.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from hubkit import runlog
from hubkit.lm.data import load_corpus  # the corpus loader the GPT shares
from hubkit.rnn.layers import LSTM
from hubkit.rnn.sentiment import SentimentConfig, compare


class Vocab:
    """Characters <-> ids, in sorted order of the characters seen.

    Example:
        >>> v = Vocab("hello")
        >>> v.encode("hole").tolist(), v.decode([2, 3])
        ([1, 3, 2, 0], 'lo')
    """

    def __init__(self, text_or_chars: str) -> None:
        self.chars = sorted(set(text_or_chars))
        self.index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> torch.Tensor:
        return torch.tensor([self.index[c] for c in text], dtype=torch.long)

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)


class CharLSTM(nn.Module):
    """Embedding -> hubkit LSTM -> linear head over the vocabulary."""

    def __init__(self, vocab_size: int, embed: int = 32, hidden: int = 256,
                 layers: int = 2, dropout: float = 0.0) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed)
        # dropout acts between stacked layers only (as torch's); one layer takes none.
        self.lstm = LSTM(embed, hidden, num_layers=layers, dropout=dropout if layers > 1 else 0.0,
                         batch_first=True)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, ids: torch.Tensor, state=None):
        """ids (B, T) -> logits (B, T, V), (h, c)."""
        out, state = self.lstm(self.embed(ids), state)
        return self.head(out), state


@dataclass
class CharLMConfig:
    """Settings of a char-LSTM run (defaults: a ~10 minute run on 2 CPU cores)."""

    corpus: str | None = None
    """UTF-8 text file; None uses Python's pydoc topics."""
    max_chars: int | None = None
    """Use only the first max_chars characters of the corpus."""
    seq_len: int = 100
    """Characters per training sequence (BPTT length)."""
    batch_size: int = 32
    embed: int = 32
    hidden: int = 256
    layers: int = 2
    dropout: float = 0.1
    steps: int = 2000
    lr: float = 3e-3
    clip: float = 1.0
    """Gradient norm clip (see hubkit.rnn.lessons)."""
    val_fraction: float = 0.05
    eval_every: int = 100
    checkpoint_every: int = 500
    sample_len: int = 300
    temperatures: tuple[float, ...] = (0.5, 0.8, 1.0)
    seed: int = 0


_CHARLM_HELP = {
    "corpus": "'pydoc', 'stdlib', a folder of text or a UTF-8 file (None: pydoc topics)",
    "max_chars": "use only the first N characters of the corpus",
    "seq_len": "characters per training sequence (BPTT length)",
    "batch_size": "sequences per step", "embed": "character embedding size",
    "hidden": "LSTM hidden size", "layers": "stacked LSTM layers",
    "dropout": "dropout between stacked layers", "steps": "Adam steps",
    "lr": "learning rate", "clip": "gradient norm clip",
    "eval_every": "validation loss every N steps",
    "checkpoint_every": "write checkpoint.pt every N steps",
    "sample_len": "characters per sample", "seed": "seeds the model, batches and samples"}
"""charlm's options (CharLMConfig fields) and their --help text."""


def random_batch(data: torch.Tensor, seq_len: int, batch: int, gen: torch.Generator):
    """B random windows of the id stream: inputs (B, T) and next-character targets (B, T)."""
    starts = torch.randint(0, len(data) - seq_len - 1, (batch,), generator=gen)
    window = torch.stack([data[s:s + seq_len + 1] for s in starts.tolist()])
    return window[:, :-1], window[:, 1:]


@torch.no_grad()
def evaluate(model: CharLSTM, data: torch.Tensor, seq_len: int, batches: int = 8) -> float:
    """Mean next-character cross-entropy (nats) on fixed windows of `data`."""
    was_training = model.training
    model.eval()
    gen = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(batches):
        x, y = random_batch(data, min(seq_len, len(data) - 2), 16, gen)
        logits, _ = model(x)
        losses.append(float(F.cross_entropy(logits.flatten(0, 1), y.flatten())))
    model.train(was_training)
    return sum(losses) / len(losses)


@torch.no_grad()
def sample(model: CharLSTM, vocab: Vocab, prompt: str, length: int, temperature: float = 1.0,
           gen: torch.Generator | None = None) -> str:
    """Generate `length` characters after `prompt`, one at a time, carrying the LSTM state.

    temperature scales the logits before softmax: below 1 sharper (safer, more
    repetitive), above 1 flatter (more surprising); 0 takes the most likely character.
    Prompt characters outside the vocabulary are dropped (an empty prompt starts from
    the vocabulary's first character).
    """
    was_training = model.training
    model.eval()
    # subtle: characters the corpus never had are dropped from the prompt.
    prompt = "".join(c for c in prompt if c in vocab.index) or vocab.chars[0]
    ids = vocab.encode(prompt).unsqueeze(0)  # (1, T)
    logits, state = model(ids)
    out = []
    for _ in range(length):
        last = logits[0, -1]
        if temperature <= 0:
            nxt = int(last.argmax())
        else:
            probs = F.softmax(last / temperature, dim=-1)
            nxt = int(torch.multinomial(probs, 1, generator=gen))
        out.append(nxt)
        logits, state = model(torch.tensor([[nxt]]), state)
    model.train(was_training)
    return prompt + vocab.decode(out)


def save_checkpoint(path: Path, model: CharLSTM, vocab: Vocab, cfg: CharLMConfig,
                    step: int) -> Path:
    torch.save({"model": model.state_dict(), "chars": vocab.chars,
                "config": dataclasses.asdict(cfg), "step": step}, path)
    return path


def load_checkpoint(path: str | Path) -> tuple[CharLSTM, Vocab, dict]:
    """(model, vocab, checkpoint dict) from a file `train_charlm` wrote."""
    ckpt = torch.load(path, weights_only=True)
    vocab, cfg = Vocab("".join(ckpt["chars"])), ckpt["config"]
    model = CharLSTM(len(vocab), cfg["embed"], cfg["hidden"], cfg["layers"], cfg["dropout"])
    model.load_state_dict(ckpt["model"])
    return model, vocab, ckpt


def plot_loss(history: list[dict], path: Path) -> Path:
    """PNG of training and validation loss (nats per character) against step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    train = [(r["step"], r["loss"]) for r in history if "loss" in r]
    val = [(r["step"], r["val_loss"]) for r in history if "val_loss" in r]
    for points, label in ((train, "train"), (val, "validation")):
        if points:
            ax.plot(*zip(*points, strict=True), label=label, marker="o" if label != "train"
                    else None)
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats / char)")
    ax.set_title("char-LSTM")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _train_step(model, opt, x, y, clip: float) -> float:
    logits, _ = model(x)
    loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
    opt.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), clip)
    opt.step()
    return float(loss.detach())


def train_charlm(cfg: CharLMConfig, outputs: runlog.Outputs,
                 progress: runlog.Progress | None = None) -> dict:
    """Train a CharLSTM; write checkpoints, samples and the loss plot into `outputs`."""
    torch.manual_seed(cfg.seed)
    text = load_corpus(cfg.corpus, cfg.max_chars)
    vocab = Vocab(text)
    data = vocab.encode(text)
    split = max(int(len(data) * (1 - cfg.val_fraction)), cfg.seq_len + 2)
    train_ids, val_ids = data[:split], data[split - cfg.seq_len - 2:]
    model = CharLSTM(len(vocab), cfg.embed, cfg.hidden, cfg.layers, cfg.dropout)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    gen = torch.Generator().manual_seed(cfg.seed)
    history, start = [], time.monotonic()
    for step in range(1, cfg.steps + 1):
        x, y = random_batch(train_ids, cfg.seq_len, cfg.batch_size, gen)
        record = {"step": step, "loss": _train_step(model, opt, x, y, cfg.clip)}
        if step % cfg.eval_every == 0 or step == cfg.steps:
            record["val_loss"] = evaluate(model, val_ids, cfg.seq_len)
        history.append(record)
        if step % cfg.checkpoint_every == 0 and step < cfg.steps:
            save_checkpoint(outputs.folder() / "checkpoint.pt", model, vocab, cfg, step)
        if progress is not None:
            progress.update(**{k: v for k, v in record.items() if k != "step"})
    ckpt = save_checkpoint(outputs.path("checkpoint.pt"), model, vocab, cfg, cfg.steps)
    samples = {t: sample(model, vocab, "The ", cfg.sample_len, t, gen) for t in cfg.temperatures}
    with outputs.path("samples.txt").open("w", encoding="utf-8") as f:
        for t, s in samples.items():
            f.write(f"--- temperature {t} ---\n{s}\n\n")
    return {"model": model, "vocab": vocab, "history": history, "samples": samples,
            "checkpoint": str(ckpt), "loss_plot": str(plot_loss(history, outputs.path(
                "loss.png"))), "val_loss": history[-1]["val_loss"],
            "uniform_loss": math.log(len(vocab)), "vocab_size": len(vocab),
            "corpus_chars": len(text), "seconds": round(time.monotonic() - start, 1)}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m hubkit.rnn.train",
                                     description=__doc__.split("\n\n")[0],
                                     epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="task", required=True)
    charlm = runlog.add_arguments(sub.add_parser(
        "charlm", help="char-LSTM text generator on an offline corpus"), "charlm")
    defaults = CharLMConfig()
    for field, text in _CHARLM_HELP.items():
        value = getattr(defaults, field)
        kind = type(value) if value is not None else (int if field == "max_chars" else str)
        charlm.add_argument(f"--{field.replace('_', '-')}", type=kind, default=value,
                            help=f"{text} (default: %(default)s)")
    charlm.add_argument("--temperatures", type=float, nargs="+",
                        default=list(defaults.temperatures),
                        help="sampling temperatures for samples.txt (default: %(default)s)")
    senti = runlog.add_arguments(sub.add_parser(
        "sentiment", help="LSTM vs bag of words on generated reviews with negation"),
        "sentiment")
    for field in dataclasses.fields(SentimentConfig):
        senti.add_argument(f"--{field.name.replace('_', '-')}", type=type(field.default),
                           default=field.default)
    return parser


def _run_sentiment(args, outputs: runlog.Outputs) -> dict:
    fields = {f.name for f in dataclasses.fields(SentimentConfig)}
    cfg = SentimentConfig(**{k: v for k, v in vars(args).items() if k in fields})
    with runlog.quiet_third_party(), runlog.tracker(args, outputs) as track:
        track.config(dataclasses.asdict(cfg))
        with runlog.Progress(2 * cfg.steps, "step", enabled=not args.quiet, tracker=track,
                             track_every=10) as bar:
            out = compare(cfg, bar)
    outputs.path("summary.json").write_text(json.dumps(
        {"config": dataclasses.asdict(cfg), **out}, indent=1) + "\n")
    for name, acc in out.items():
        print(f"{name:>13}: test {acc['test_accuracy']:.3f}  plain "
              f"{acc['plain_accuracy']:.3f}  negated {acc['negated_accuracy']:.3f}")
    outputs.report()
    return out


def main(argv: list[str] | None = None) -> dict:
    """Command line: charlm | sentiment (see the module docstring)."""
    args = _parser().parse_args(argv)
    outputs = runlog.Outputs(args.out, args._run_name)
    if args.task == "sentiment":
        return _run_sentiment(args, outputs)
    fields = {f.name for f in dataclasses.fields(CharLMConfig)}
    cfg = CharLMConfig(**{k: v for k, v in vars(args).items() if k in fields})
    cfg.temperatures = tuple(cfg.temperatures)
    with runlog.quiet_third_party(), runlog.tracker(args, outputs) as track:
        track.config(dataclasses.asdict(cfg))
        with runlog.Progress(cfg.steps, "step", enabled=not args.quiet, tracker=track,
                             track_every=10) as bar:
            out = train_charlm(cfg, outputs, bar)
    summary = {k: v for k, v in out.items() if k not in ("model", "vocab", "history")}
    outputs.path("summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    with outputs.path("history.jsonl").open("w") as f:
        f.writelines(json.dumps(r) + "\n" for r in out["history"])
    print(f"val loss {out['val_loss']:.3f} nats/char (uniform: {out['uniform_loss']:.3f}); "
          f"sample at T={cfg.temperatures[0]}:\n{out['samples'][cfg.temperatures[0]][:200]}")
    outputs.report()
    return out


if __name__ == "__main__":
    runlog.run_main(main)
