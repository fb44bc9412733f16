"""Train a small GPT on an offline corpus: one process, or N under torchrun with DDP.

The key project of outline 5.2: a ~10M-parameter language model trained on a
custom dataset, with hubkit's own BPE tokenizer and attention op.

    python -m hubkit.lm.train --out runs/gpt                     # ~10M params, stdlib corpus
    python -m hubkit.lm.train --data ~/my-texts --max-minutes 30  # any folder of text
    python -m hubkit.lm.train --out runs/gpt --resume            # continue from checkpoint.pt
    python -m hubkit.lm.train --steps 20 --n-layer 2 --n-embd 64 --n-head 2 --max-chars 200000
    torchrun --nproc_per_node=2 -m hubkit.lm.train --out runs/gpt-ddp    # DDP, 2 processes

Corpus (`--data`, see hubkit.lm.data): "stdlib" (default: Python's documentation
topics and standard-library sources, ~12.6 M characters, no download), "pydoc",
a folder of text files or one file. Every 20th file is held out for validation.
A BPE tokenizer (hubkit.tokenizers) is trained on the first --tokenizer-chars
characters of the training files.

Several processes: torchrun sets RANK/WORLD_SIZE; each process joins a gloo (CPU)
or NCCL (CUDA) group, draws the same global batch of --batch-size windows and
trains on its 1/N slice; DistributedDataParallel averages the gradients, so N
processes follow the loss curve of one process at the same global batch. Only
rank 0 prints and writes. Several machines: run on each node
    torchrun --nnodes=2 --node_rank=R --nproc_per_node=G \\
        --rdzv_backend=c10d --rdzv_endpoint=HOST0:29500 -m hubkit.lm.train --out runs/gpt
with R = 0 on HOST0 and 1 on the other. A model too big for one device's memory
takes FullyShardedDataParallel instead of DDP (torch.distributed.fsdp.fully_shard on
each block, then the whole model): parameters, gradients and optimizer state are
sharded over the processes and gathered one block at a time; the loop is unchanged.

Writes under --out: checkpoint.pt (model, optimizer, tokenizer, step, random
state: --resume continues from it), tokenizer.json, loss.png, samples.txt,
summary.json, history.jsonl, metrics.jsonl.

Shape legend: B batch, T time (tokens), V vocabulary.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from hubkit import runlog
from hubkit.lm import distributed as dist_utils
from hubkit.lm.corpus import TokenData, prepare_tokens, tokenizer_from_state
from hubkit.lm.data import load_documents
from hubkit.lm.model import GPT, GPTConfig
from hubkit.lm.plots import plot_curves


@dataclass
class TrainConfig:
    """Settings of a GPT run (defaults: the documented ~10M-parameter run, 2 CPU cores)."""

    data: str = "stdlib"
    """'stdlib', 'pydoc', a folder of text files or a file (hubkit.lm.data)."""
    max_chars: int | None = None
    """Use only the first N characters of the corpus."""
    vocab_size: int = 4096
    """BPE vocabulary: 256 bytes + merges + <|endoftext|>."""
    tokenizer_chars: int = 3_000_000
    """Characters of training text the tokenizer learns its merges from."""
    block_size: int = 128
    n_layer: int = 6
    n_head: int = 6
    n_embd: int = 384
    dropout: float = 0.0
    batch_size: int = 16
    """Global batch: windows per optimizer step, over all processes."""
    steps: int = 2000
    lr: float = 1e-3
    """Peak learning rate (linear warm-up, then cosine decay to lr / 10)."""
    warmup: int = 100
    weight_decay: float = 0.1
    clip: float = 1.0
    eval_every: int = 100
    eval_batches: int = 8
    checkpoint_every: int = 250
    max_minutes: float | None = None
    """Stop (and write everything) after this much wall time, even before --steps."""
    sample_tokens: int = 200
    seed: int = 0
    device: str | None = None
    """'cpu' or 'cuda'; None picks CUDA when available."""
    threads: int | None = None
    """CPU threads per process (torch.set_num_threads); None keeps torch's default."""
    fused_loss: bool = False
    """Loss through hubkit.ops.linear_cross_entropy (no (B*T, V) logits in memory)."""

    def model_config(self, vocab_size: int) -> GPTConfig:
        return GPTConfig(vocab_size, self.block_size, self.n_layer, self.n_head, self.n_embd,
                         self.dropout)


_HELP = {"data": "'stdlib', 'pydoc', a folder of text files or one file",
         "max_chars": "use only the first N characters of the corpus",
         "vocab_size": "BPE vocabulary size", "tokenizer_chars": "characters the BPE learns from",
         "block_size": "context length (tokens)", "n_layer": "transformer blocks",
         "n_head": "attention heads", "n_embd": "model width", "dropout": "dropout rate",
         "batch_size": "global batch (windows per step, all processes)",
         "steps": "optimizer steps", "lr": "peak learning rate", "warmup": "warm-up steps",
         "weight_decay": "AdamW weight decay", "clip": "gradient norm clip",
         "eval_every": "validation loss every N steps", "eval_batches": "validation batches",
         "checkpoint_every": "write checkpoint.pt every N steps",
         "max_minutes": "stop after this many minutes of wall time",
         "sample_tokens": "tokens per sample in samples.txt", "seed": "seeds everything",
         "device": "cpu or cuda (default: cuda when available)",
         "threads": "CPU threads per process (1 is fastest on a busy machine)"}


def learning_rate(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up to cfg.lr over cfg.warmup steps, then cosine decay to cfg.lr / 10."""
    if step <= cfg.warmup:
        return cfg.lr * step / max(cfg.warmup, 1)
    progress = min((step - cfg.warmup) / max(cfg.steps - cfg.warmup, 1), 1.0)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def random_windows(ids: torch.Tensor, block: int, batch: int, gen: torch.Generator):
    """B random windows of the token stream: inputs (B, T) and next-token targets (B, T)."""
    starts = torch.randint(0, len(ids) - block - 1, (batch,), generator=gen)
    window = torch.stack([ids[s:s + block + 1] for s in starts.tolist()])  # (B, T + 1)
    return window[:, :-1], window[:, 1:]


@torch.no_grad()
def evaluate(model: GPT, ids: torch.Tensor, block: int, batches: int, device) -> float:
    """Mean next-token cross-entropy (nats) on fixed (seed 0) windows of `ids`."""
    was_training = model.training
    model.eval()
    gen = torch.Generator().manual_seed(0)
    block = min(block, len(ids) - 2)
    losses = [float(model(*(t.to(device) for t in random_windows(ids, block, 8, gen)))[1])
              for _ in range(batches)]
    model.train(was_training)
    return sum(losses) / len(losses)


def _loss(model, x: torch.Tensor, y: torch.Tensor, fused: bool) -> torch.Tensor:
    if not fused:
        return model(x, y)[1]
    from hubkit.lm.ops import linear_cross_entropy

    inner = dist_utils.unwrap(model)
    # subtle: DDP syncs gradients only through its own forward(), and this path calls
    # hidden() on the inner model, so main() allows --fused-loss on one process only.
    h = inner.hidden(x)  # (B, T, C)
    return linear_cross_entropy(h.flatten(0, 1), inner.lm_head.weight, y.flatten(),
                                ignore_index=-1, reduction="mean")


def train_step(model, opt, x, y, cfg: TrainConfig, step: int) -> float:
    """One AdamW step on a batch; returns this process's loss."""
    for group in opt.param_groups:
        group["lr"] = learning_rate(step, cfg)
    loss = _loss(model, x, y, cfg.fused_loss)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
    opt.step()
    return float(loss.detach())


def make_optimizer(model: GPT, cfg: TrainConfig) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices only (not on biases, LayerNorms)."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay},
              {"params": rest, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, 0.95))


def save_checkpoint(path: Path, model: GPT, opt, data: TokenData, cfg: TrainConfig,
                    state: dict) -> Path:
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                "tokenizer": data.tokenizer.state_dict(), "config": dataclasses.asdict(cfg),
                "model_config": dataclasses.asdict(model.cfg), **state}, path)
    return path


def load_checkpoint(path: str | Path):
    """(model, tokenizer, checkpoint dict) from a checkpoint.pt this script wrote."""
    ckpt = torch.load(path, weights_only=False, map_location="cpu")
    model = GPT(GPTConfig(**ckpt["model_config"]))
    model.load_state_dict(ckpt["model"])
    return model, tokenizer_from_state(ckpt["tokenizer"]), ckpt


def _resume_state(out: Path, cfg: TrainConfig) -> dict | None:
    path = out / "checkpoint.pt"
    if not path.exists():
        raise SystemExit(f"error: --resume: no checkpoint.pt in {out}")
    ckpt = torch.load(path, weights_only=False, map_location="cpu")
    for key in ("data", "max_chars", "vocab_size", "block_size", "n_layer", "n_embd"):
        if ckpt["config"][key] != getattr(cfg, key):
            raise SystemExit(f"error: --resume: --{key.replace('_', '-')} is "
                             f"{getattr(cfg, key)!r}, the checkpoint was trained with "
                             f"{ckpt['config'][key]!r}")
    return ckpt


class Run:
    """The state of one training run: world, data, model, optimizer, history."""

    def __init__(self, cfg: TrainConfig, world: dist_utils.World, resume: dict | None):
        self.cfg, self.world = cfg, world
        torch.manual_seed(cfg.seed)
        docs = load_documents(cfg.data, cfg.max_chars) if world.main else None
        self.data = prepare_tokens(docs, cfg.vocab_size, cfg.tokenizer_chars, world,
                                   resume["tokenizer"] if resume else None)
        self.model = GPT(cfg.model_config(self.data.tokenizer.vocab_size)).to(world.device)
        self.opt = make_optimizer(self.model, cfg)
        self.gen = torch.Generator().manual_seed(cfg.seed)
        self.step, self.history, self.seconds = 0, [], 0.0
        if resume:
            self.model.load_state_dict(resume["model"])
            self.opt.load_state_dict(resume["optimizer"])
            self.gen.set_state(resume["generator"])
            self.step, self.history = resume["step"], resume["history"]
            self.seconds = resume["seconds"]
        self.ddp = dist_utils.wrap(self.model, world)

    def state(self) -> dict:
        return {"generator": self.gen.get_state(), "step": self.step,
                "history": self.history, "seconds": self.seconds}

    def one_step(self) -> dict:
        cfg, world = self.cfg, self.world
        self.step += 1
        x, y = random_windows(self.data.train, cfg.block_size, cfg.batch_size, self.gen)
        x, y = (dist_utils.shard(t, world).to(world.device) for t in (x, y))
        loss = dist_utils.mean(train_step(self.ddp, self.opt, x, y, cfg, self.step), world)
        record = {"step": self.step, "tokens": self.step * cfg.batch_size * cfg.block_size,
                  "loss": loss, "lr": learning_rate(self.step, cfg)}
        if self.step % cfg.eval_every == 0 or self.step == cfg.steps:
            record["val_loss"] = self.validate()
        return record

    def validate(self) -> float:
        return evaluate(self.model, self.data.val, self.cfg.block_size, self.cfg.eval_batches,
                        self.world.device)


def _time_up(cfg: TrainConfig, seconds: float, world: dist_utils.World) -> bool:
    """Whether the wall-time budget is spent (decided on rank 0, so all ranks stop together)."""
    if cfg.max_minutes is None:
        return False
    up = [seconds >= cfg.max_minutes * 60] if world.main else [None]
    return bool(dist_utils.broadcast(up, world)[0])


def train(run: Run, outputs: runlog.Outputs | None, bar: runlog.Progress | None) -> dict:
    """Step until cfg.steps (or the time budget); rank 0 checkpoints and reports progress."""
    cfg, start, before = run.cfg, time.monotonic(), run.seconds
    while run.step < cfg.steps and not _time_up(cfg, run.seconds, run.world):
        record = run.one_step()
        run.seconds = before + time.monotonic() - start
        record["seconds"] = round(run.seconds, 2)
        run.history.append(record)
        if bar is not None:
            tok_s = (record["tokens"] - run.history[0]["tokens"] + cfg.batch_size
                     * cfg.block_size) / max(time.monotonic() - start, 1e-9)
            bar.update(loss=record["loss"], tok_s=round(tok_s), lr=record["lr"],
                       **({"val_loss": record["val_loss"]} if "val_loss" in record else {}))
        if outputs is not None and run.step % cfg.checkpoint_every == 0:
            save_checkpoint(outputs.folder() / "checkpoint.pt", run.model, run.opt, run.data,
                            cfg, run.state())
    if "val_loss" not in run.history[-1]:
        run.history[-1]["val_loss"] = run.validate()
    return run.history[-1]


def write_results(run: Run, outputs: runlog.Outputs, started: float) -> dict:
    """checkpoint.pt, tokenizer.json, samples.txt, loss.png, history.jsonl, summary.json."""
    cfg, last = run.cfg, run.history[-1]
    save_checkpoint(outputs.path("checkpoint.pt"), run.model, run.opt, run.data, cfg,
                    run.state())
    run.data.tokenizer.save(outputs.path("tokenizer.json"))
    samples = write_samples(run, outputs.path("samples.txt"))
    plot_curves(run.history, outputs.path("loss.png"), "GPT", "tokens")
    with outputs.path("history.jsonl").open("w") as f:
        f.writelines(json.dumps(r) + "\n" for r in run.history)
    tokens = last["tokens"]
    summary = {"val_loss": last["val_loss"], "train_loss": last["loss"], "step": run.step,
               "tokens": tokens, "seconds": round(run.seconds, 1),
               "tokens_per_second": round(tokens / max(run.seconds, 1e-9), 1),
               "wall_seconds": round(time.monotonic() - started, 1),
               "params": run.model.num_params(), "world_size": run.world.size,
               "uniform_loss": math.log(run.data.tokenizer.vocab_size),
               **run.data.sizes(), "config": dataclasses.asdict(cfg), "sample": samples[0]}
    outputs.path("summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def write_samples(run: Run, path: Path, prompts=("def ", "The ")) -> list[str]:
    """Text the model writes after a few prompts (temperature 0.8, top-k 40), seeded."""
    tok, texts = run.data.tokenizer, []
    for prompt in prompts:
        gen = torch.Generator().manual_seed(run.cfg.seed)
        ids = torch.tensor([tok.encode_ordinary(prompt)], device=run.world.device)
        out = run.model.generate(ids, run.cfg.sample_tokens, temperature=0.8, top_k=40,
                                 generator=gen if run.world.device.type == "cpu" else None)
        texts.append(tok.decode(out[0].tolist()))
    path.write_text("".join(f"--- prompt {p!r} (T=0.8, top-k 40) ---\n{t}\n\n"
                            for p, t in zip(prompts, texts, strict=True)), encoding="utf-8")
    return texts


def _parser():
    p = runlog.parser("python -m hubkit.lm.train", __doc__, "gpt")
    defaults = TrainConfig()
    for field, text in _HELP.items():
        value = getattr(defaults, field)
        kind = {"max_chars": int, "max_minutes": float, "device": str,
                "threads": int}.get(field, type(value))
        p.add_argument(f"--{field.replace('_', '-')}", type=kind, default=value,
                       help=f"{text} (default: %(default)s)")
    p.add_argument("--fused-loss", action="store_true",
                   help="compute the loss with hubkit.ops.linear_cross_entropy (never "
                        "materializes the (B*T, V) logits; one process only)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its checkpoint.pt")
    return p


def main(argv: list[str] | None = None) -> dict:
    """Command line (see the module docstring); returns the summary on rank 0."""
    started = time.monotonic()
    args = _parser().parse_args(argv)
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    cfg = TrainConfig(**{k: v for k, v in vars(args).items() if k in fields})
    if args.resume and args.out is None:
        raise SystemExit("error: --resume needs --out (the folder of the run to continue)")
    if cfg.threads is not None:
        torch.set_num_threads(cfg.threads)
    world = dist_utils.setup(cfg.device)
    if cfg.fused_loss and world.distributed:
        raise SystemExit("error: --fused-loss runs on one process only (no torchrun)")
    try:
        return _main(args, cfg, world, started)
    finally:
        dist_utils.teardown(world)


def _main(args, cfg: TrainConfig, world: dist_utils.World, started: float) -> dict:
    outputs = runlog.Outputs(args.out, args._run_name) if world.main else None
    resume = _resume_state(outputs.root if outputs else Path(args.out), cfg) \
        if args.resume else None
    run = Run(cfg, world, resume)
    if not world.main:
        train(run, None, None)
        return {}
    with runlog.quiet_third_party(), runlog.tracker(args, outputs) as track:
        track.config({**dataclasses.asdict(cfg), "world_size": world.size,
                      "params": run.model.num_params(), **run.data.sizes()})
        with runlog.Progress(cfg.steps, "step", enabled=not args.quiet, tracker=track,
                             track_every=10) as bar:
            bar.update(run.step)  # a resumed run starts where it stopped
            train(run, outputs, bar)
            bar.update(0, val_loss=run.history[-1]["val_loss"])
    summary = write_results(run, outputs, started)
    print(f"val loss {summary['val_loss']:.3f} nats/token after {summary['tokens']:,} tokens "
          f"in {summary['seconds']:.0f} s ({summary['tokens_per_second']:.0f} tokens/s, "
          f"{world.size} process(es)); sample:\n{summary['sample'][:200]}")
    outputs.report()
    return summary


if __name__ == "__main__":
    runlog.run_main(main)
