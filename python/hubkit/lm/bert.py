"""A BERT-style encoder pretrained by masked language modelling, compared with a causal GPT.

Devlin et al., "BERT: Pre-training of Deep Bidirectional Transformers" (2019): the
encoder sees the whole sequence (no causal mask); 15% of the tokens are chosen, and
of those 80% become <|mask|>, 10% a random token and 10% stay, and the model is
trained to recover the chosen ones. The blocks are hubkit's
`TransformerEncoderLayer` (pre-norm, GELU) on `hubkit::attention`.

    python -m hubkit.lm.bert --out runs/mlm-vs-clm          # both objectives, same budget
    python -m hubkit.lm.bert --steps 20 --n-embd 32 --max-chars 100000   # seconds

`compare` trains a causal GPT and a masked encoder of the same width, depth and
heads on the same tokens (same tokenizer, same windows, same steps) and writes
compare.md, a table of what each reached: validation loss on its own objective,
accuracy on the tokens it predicts, and how many tokens per window give a training
signal (all of them for causal, ~15% for masked). The two losses answer different
questions (next token from the left context; a hidden token from both sides), so
the table reports them side by side, not as a ranking.

Shape legend: B batch, T time (tokens), C width, V vocabulary.
"""

from __future__ import annotations

import dataclasses
import json
import time

import torch
import torch.nn.functional as F
from torch import nn

from hubkit import runlog
from hubkit.attention.layers import TransformerEncoder, TransformerEncoderLayer
from hubkit.lm import train as lm_train
from hubkit.lm.corpus import MASK, TokenData, prepare_tokens
from hubkit.lm.data import load_documents
from hubkit.lm.model import GPT, GPTConfig
from hubkit.lm.plots import plot_curves


class BertEncoder(nn.Module):
    """Token + position embeddings, bidirectional encoder blocks, a tied vocabulary head.

    Takes a `GPTConfig` for its sizes, so a causal and a masked model can be built
    with the very same numbers. forward(ids, targets) has the GPT's signature:
    targets of -1 are ignored (for a masked LM: every token that was not chosen).
    """

    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.block_size, cfg.n_embd)
        layer = TransformerEncoderLayer(cfg.n_embd, cfg.n_head, 4 * cfg.n_embd, cfg.dropout,
                                        activation="gelu", batch_first=True, norm_first=True)
        self.encoder = TransformerEncoder(layer, cfg.n_layer, norm=nn.LayerNorm(cfg.n_embd))
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # tied, as BERT's MLM decoder
        nn.init.normal_(self.wte.weight, std=0.02)
        nn.init.normal_(self.wpe.weight, std=0.02)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(self, ids: torch.Tensor, targets: torch.Tensor | None = None):
        """ids (B, T) -> logits (B, T, V), and the cross-entropy over targets != -1."""
        pos = torch.arange(ids.shape[1], device=ids.device)  # (T,)
        h = self.encoder(self.wte(ids) + self.wpe(pos))  # (B, T, C): every token sees all
        logits = self.lm_head(h)  # (B, T, V)
        if targets is None:
            return logits, None
        return logits, F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-1)


def mask_tokens(ids: torch.Tensor, mask_id: int, vocab_size: int, prob: float = 0.15,
                generator: torch.Generator | None = None):
    """BERT's corruption: (inputs, targets) from ids (B, T).

    Each token is chosen with probability `prob` (at least one per batch); a chosen
    token becomes `mask_id` 80% of the time, a random token 10%, itself 10%.
    targets hold the original id at chosen positions and -1 elsewhere.

    Example:
        >>> ids = torch.arange(40).view(2, 20)
        >>> x, y = mask_tokens(ids, mask_id=99, vocab_size=100,
        ...                    generator=torch.Generator().manual_seed(0))
        >>> bool(((y == -1) | (y == ids)).all()), bool((x[y == -1] == ids[y == -1]).all())
        (True, True)
    """
    if not 0.0 < prob < 1.0:
        raise ValueError(f"prob: expected a value in (0, 1), got {prob}")
    draw = torch.rand(ids.shape, generator=generator)  # (B, T): one draw decides all
    chosen = draw < prob
    if not chosen.any():  # subtle: a batch with nothing to predict would give a NaN loss
        chosen.view(-1)[draw.argmin()] = True
    kind = draw / prob  # uniform in [0, 1) on the chosen tokens
    random_ids = torch.randint(0, vocab_size, ids.shape, generator=generator)
    inputs = torch.where(chosen & (kind < 0.8), mask_id, ids)
    inputs = torch.where(chosen & (kind >= 0.8) & (kind < 0.9), random_ids, inputs)
    return inputs, torch.where(chosen, ids, -1)


def causal_batch(window: torch.Tensor, gen: torch.Generator, data: TokenData):
    """(B, T + 1) window -> inputs (B, T), next-token targets (B, T)."""
    return window[:, :-1], window[:, 1:]


def masked_batch(window: torch.Tensor, gen: torch.Generator, data: TokenData):
    """(B, T + 1) window -> corrupted inputs (B, T), targets at chosen tokens (B, T)."""
    tok = data.tokenizer
    return mask_tokens(window[:, :-1], tok.special_tokens[MASK], tok.vocab_size, 0.15, gen)


OBJECTIVES = {"causal": (GPT, causal_batch), "masked": (BertEncoder, masked_batch)}


def _windows(ids: torch.Tensor, block: int, batch: int, gen: torch.Generator) -> torch.Tensor:
    x, y = lm_train.random_windows(ids, block, batch, gen)
    return torch.cat([x, y[:, -1:]], dim=1)  # (B, T + 1)


@torch.no_grad()
def evaluate(model, make_batch, data: TokenData, block: int, batches: int = 8) -> dict:
    """Validation loss and accuracy on the predicted tokens, fixed (seed 0) windows."""
    model.eval()
    gen = torch.Generator().manual_seed(0)
    losses, right, total = [], 0, 0
    for _ in range(batches):
        x, y = make_batch(_windows(data.val, block, 8, gen), gen, data)
        logits, loss = model(x, y)
        keep = y != -1
        losses.append(float(loss))
        right += int((logits.argmax(-1)[keep] == y[keep]).sum())
        total += int(keep.sum())
    model.train()
    return {"val_loss": sum(losses) / len(losses), "val_accuracy": right / max(total, 1),
            "predicted_fraction": total / (batches * 8 * block)}


def pretrain(objective: str, data: TokenData, cfg: lm_train.TrainConfig,
             bar: runlog.Progress | None = None) -> dict:
    """Train one model on `objective` ("causal" or "masked"); returns its history and result."""
    cls, make_batch = OBJECTIVES[objective]
    torch.manual_seed(cfg.seed)
    model = cls(cfg.model_config(data.tokenizer.vocab_size))
    opt = lm_train.make_optimizer(model, cfg)
    gen, history, start = torch.Generator().manual_seed(cfg.seed), [], time.monotonic()
    for step in range(1, cfg.steps + 1):
        x, y = make_batch(_windows(data.train, cfg.block_size, cfg.batch_size, gen), gen, data)
        record = {"step": step, "tokens": step * cfg.batch_size * cfg.block_size,
                  "loss": lm_train.train_step(model, opt, x, y, cfg, step)}
        if step % cfg.eval_every == 0 or step == cfg.steps:
            record.update(evaluate(model, make_batch, data, cfg.block_size, cfg.eval_batches))
        history.append(record)
        if bar is not None:
            bar.update(**{f"{objective}/{k}": v for k, v in record.items()
                          if k in ("loss", "val_loss")})
    return {"objective": objective, "model": cls.__name__, "params": model.num_params(),
            "seconds": round(time.monotonic() - start, 1), "history": history,
            **{k: history[-1][k] for k in ("val_loss", "val_accuracy", "predicted_fraction")}}


def format_table(results: list[dict], cfg: lm_train.TrainConfig) -> str:
    """Markdown table of the compared runs."""
    rows = ["| objective | model | params | steps | tokens seen | predicted tokens / window "
            "| val loss (own objective) | val accuracy | seconds |", "|" + " --- |" * 9]
    for r in results:
        rows.append(f"| {r['objective']} | {r['model']} | {r['params']:,} | {cfg.steps} | "
                    f"{cfg.steps * cfg.batch_size * cfg.block_size:,} | "
                    f"{r['predicted_fraction']:.0%} | {r['val_loss']:.3f} | "
                    f"{r['val_accuracy']:.1%} | {r['seconds']:.0f} |")
    return "\n".join(rows) + "\n"


def compare(cfg: lm_train.TrainConfig, outputs: runlog.Outputs, quiet: bool = False,
            track: runlog.Tracker | None = None) -> list[dict]:
    """Causal and masked LM on the same tokens and budget; writes compare.md, loss.png."""
    docs = load_documents(cfg.data, cfg.max_chars)
    data = prepare_tokens(docs, cfg.vocab_size, cfg.tokenizer_chars, specials=(MASK,))
    results = []
    with runlog.Progress(2 * cfg.steps, "step", enabled=not quiet, tracker=track,
                         track_every=10) as bar:
        for objective in OBJECTIVES:
            results.append(pretrain(objective, data, cfg, bar))
    table = format_table(results, cfg)
    outputs.path("compare.md").write_text(table, encoding="utf-8")
    plot_curves([], outputs.path("loss.png"), "causal vs masked LM (own objectives)", "tokens",
                curves={r["objective"]: r["history"] for r in results})
    summary = {"config": dataclasses.asdict(cfg), **data.sizes(),
               "results": [{k: v for k, v in r.items() if k != "history"} for r in results]}
    outputs.path("summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return results


def main(argv: list[str] | None = None) -> list[dict]:
    """Command line: train both objectives on one corpus and budget (see the docstring)."""
    p = runlog.parser("python -m hubkit.lm.bert", __doc__, "mlm-vs-clm")
    defaults = lm_train.TrainConfig(data="pydoc", vocab_size=2048, tokenizer_chars=500_000,
                                    block_size=64, n_layer=4, n_head=4, n_embd=128,
                                    batch_size=16, steps=400, warmup=40, eval_every=50)
    for field in ("data", "max_chars", "vocab_size", "block_size", "n_layer", "n_head",
                  "n_embd", "batch_size", "steps", "lr", "eval_every", "seed", "threads"):
        value = getattr(defaults, field)
        kind = {"max_chars": int, "threads": int}.get(field, type(value))
        p.add_argument(f"--{field.replace('_', '-')}", type=kind, default=value,
                       help="as in hubkit.lm.train (default: %(default)s)")
    args = p.parse_args(argv)
    cfg = dataclasses.replace(defaults, **{k: v for k, v in vars(args).items()
                                           if hasattr(defaults, k)})
    if cfg.threads is not None:
        torch.set_num_threads(cfg.threads)
    outputs = runlog.Outputs(args.out, args._run_name)
    with runlog.quiet_third_party(), runlog.tracker(args, outputs) as track:
        track.config(dataclasses.asdict(cfg))
        results = compare(cfg, outputs, args.quiet, track)
    print(format_table(results, cfg))
    outputs.report()
    return results


if __name__ == "__main__":
    runlog.run_main(main)
