"""Training CNNs with hubkit's conv2d: LeNet on digits, ResNet-18 on CIFAR-10, fine-tuning.

    python -m hubkit.cnn.train digits                    # LeNet-5, sklearn digits, ~1 min CPU
    python -m hubkit.cnn.train cifar --data DIR          # ResNet-18, CIFAR-10 pickles (GPU)
    python -m hubkit.cnn.train finetune --data DIR --checkpoint resnet.pt

Every run writes under `--out` (default `runs/cnn-<task>-<time>/`): metrics as
JSONL (`metrics.jsonl`, the format of `hubkit.runlog`; `--log tensorboard` or
`--log wandb` add those), a summary, the weights and, for digits, PNG plots.
Every loop is built from small pieces (`train_epoch`, `evaluate`, `cosine_lr`).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from hubkit import runlog
from hubkit.cnn import data
from hubkit.cnn.layers import LeNet5, ResNet18


@dataclass
class DigitsConfig:
    """LeNet-5 on sklearn's digits, sized for a laptop CPU."""

    epochs: int = 10
    """passes over the 1,347 training images"""
    batch_size: int = 64
    lr: float = 3e-3
    """Adam learning rate, cosine-decayed to zero"""
    image_size: int = 32
    """8x8 digits are resized to this (LeNet-5 expects 32x32)"""
    shift: int = 2
    """augmentation: random shifts of up to this many pixels (0: none)"""
    seed: int = 0
    backend: str | None = None
    """hubkit conv2d backend; None picks cpp on CPU when built"""
    threads: int | None = 2
    """torch CPU threads (None leaves torch's default)"""


@dataclass
class CifarConfig:
    """ResNet-18 on CIFAR-10; the defaults reach > 90% test accuracy on one GPU."""

    data: str = "data/cifar-10-batches-py"
    """folder with data_batch_1..5 and test_batch"""
    epochs: int = 30
    batch_size: int = 256
    lr: float = 0.1
    """SGD peak learning rate (after a 1-epoch warmup, cosine to zero)"""
    momentum: float = 0.9
    weight_decay: float = 5e-4
    width: int = 64
    amp: bool = True
    """bfloat16 autocast on CUDA (ignored on CPU)"""
    max_steps: int | None = None
    """stop after this many steps (smoke tests)"""
    metrics: str | None = None
    """JSONL metrics file (None: none; the command line puts it under --out)"""
    seed: int = 0
    device: str = "cuda" if torch.cuda.is_available() else "cpu"


@dataclass
class FinetuneConfig:
    """Fine-tune a trained ResNet-18 on root/<class>/*.png (transfer learning)."""

    data: str = "data/images"
    checkpoint: str | None = None
    """a ResNet18 state_dict (.pt); its classifier is replaced"""
    width: int = 64
    image_size: int = 32
    epochs: int = 5
    batch_size: int = 32
    lr: float = 1e-3
    train_backbone: bool = False
    """False: only the new classifier learns (the features stay frozen)"""
    seed: int = 0
    device: str = "cuda" if torch.cuda.is_available() else "cpu"


def cosine_lr(step: int, total: int, peak: float, warmup: int = 0) -> float:
    """Linear warmup to `peak`, then half a cosine down to zero at `total`."""
    if step < warmup:
        return peak * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return 0.5 * peak * (1 + math.cos(math.pi * min(t, 1.0)))


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 512,
             transform=None) -> float:
    """Accuracy of `model` on (x, y), in [0, 1]."""
    model.eval()
    correct = 0
    for i in range(0, len(y), batch_size):
        xb = x[i:i + batch_size]
        xb = transform(xb) if transform is not None else xb
        correct += int((model(xb).argmax(1) == y[i:i + batch_size].to(xb.device)).sum())
    return correct / max(1, len(y))


def train_epoch(model, opt, x, y, batch_size, gen, *, lr_at=None, step=0, transform=None):
    """One shuffled pass; returns (mean loss, next step). lr_at(step) sets each step's lr."""
    model.train()
    order = torch.randperm(len(y), generator=gen)
    losses = []
    for i in range(0, len(y), batch_size):
        idx = order[i:i + batch_size]
        xb, yb = x[idx], y[idx]
        xb = transform(xb) if transform is not None else xb
        if lr_at is not None:
            for group in opt.param_groups:
                group["lr"] = lr_at(step)
        loss = F.cross_entropy(model(xb), yb.to(xb.device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        step += 1
    return sum(losses) / max(1, len(losses)), step


def train_lenet_digits(cfg: DigitsConfig | None = None,
                       progress: runlog.Progress | None = None) -> dict:
    """Train LeNet-5 on sklearn's digits; returns accuracies, history, seconds and the model.

    `progress` (total = cfg.epochs) is advanced once per epoch with the loss and accuracy.
    """
    cfg = cfg or DigitsConfig()
    if cfg.threads is not None:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    x_tr, y_tr, x_te, y_te = data.load_digits_split(cfg.image_size, seed=cfg.seed)
    mean, std = x_tr.mean(), x_tr.std()  # standardize with training statistics only
    x_tr, x_te = (x_tr - mean) / std, (x_te - mean) / std
    model = LeNet5(backend=cfg.backend)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    gen = torch.Generator().manual_seed(cfg.seed)
    total = cfg.epochs * math.ceil(len(y_tr) / cfg.batch_size)
    start, step, history = time.perf_counter(), 0, []
    for epoch in range(cfg.epochs):
        shift = (lambda xb: data.augment(xb, gen, cfg.shift, flip=False)) if cfg.shift else None
        loss, step = train_epoch(model, opt, x_tr, y_tr, cfg.batch_size, gen, step=step,
                                 lr_at=lambda s: cosine_lr(s, total, cfg.lr), transform=shift)
        history.append({"epoch": epoch, "loss": loss, "test_accuracy": evaluate(model, x_te, y_te)})
        _epoch_done(progress, history[-1])
    return {"test_accuracy": history[-1]["test_accuracy"], "train_accuracy":
            evaluate(model, x_tr, y_tr), "seconds": time.perf_counter() - start,
            "history": history, "model": model}


def _epoch_done(progress: runlog.Progress | None, record: dict) -> None:
    if progress is None:
        return
    metrics = {k: v for k, v in record.items() if k != "epoch"}
    progress.log(f"epoch {record['epoch'] + 1}: " + "  ".join(f"{k} {v:.4f}"
                                                             for k, v in metrics.items()))
    progress.update(**metrics)


class JsonlLogger:
    """Append one JSON object per line to `path` (None: log nowhere)."""

    def __init__(self, path: str | None) -> None:
        self.path = Path(path) if path else None
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text("")

    def log(self, **record) -> None:
        if self.path:
            with self.path.open("a") as f:
                f.write(json.dumps(record) + "\n")


def _cifar_step(model, opt, xb, yb, cfg: CifarConfig) -> float:
    use_amp = cfg.amp and xb.device.type == "cuda"
    with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_amp):
        loss = F.cross_entropy(model(xb), yb)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return float(loss.detach())


def train_cifar10(cfg: CifarConfig | None = None,
                  progress: runlog.Progress | None = None) -> dict:
    """ResNet-18 on CIFAR-10: crop+flip augmentation, SGD with warmup + cosine, AMP on GPU.

    `progress` (total = the number of steps) is advanced once per step with the loss.
    """
    cfg = cfg or CifarConfig()
    torch.manual_seed(cfg.seed)
    dev = torch.device(cfg.device)
    x_tr, y_tr = (t.to(dev) for t in data.load_cifar10(cfg.data, "train"))
    x_te, y_te = (t.to(dev) for t in data.load_cifar10(cfg.data, "test"))
    model = ResNet18(width=cfg.width).to(dev).to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum,
                          weight_decay=cfg.weight_decay, nesterov=True)
    steps_per_epoch = math.ceil(len(y_tr) / cfg.batch_size)
    total = cfg.epochs * steps_per_epoch
    if cfg.max_steps is not None:
        total = min(total, cfg.max_steps)
    gen = torch.Generator(device=dev).manual_seed(cfg.seed)
    logger, step, start = JsonlLogger(cfg.metrics), 0, time.perf_counter()
    logger.log(event="config", **asdict(cfg))
    while step < total:
        model.train()
        order = torch.randperm(len(y_tr), generator=gen, device=dev)
        for i in range(0, len(y_tr), cfg.batch_size):
            if step >= total:
                break
            idx = order[i:i + cfg.batch_size]
            xb = data.augment(data.normalize_cifar(x_tr[idx]), gen)
            for group in opt.param_groups:
                group["lr"] = cosine_lr(step, total, cfg.lr, warmup=steps_per_epoch)
            loss = _cifar_step(model, opt, xb.contiguous(memory_format=torch.channels_last),
                               y_tr[idx], cfg)
            step += 1
            if progress is not None:
                progress.update(loss=loss, lr=opt.param_groups[0]["lr"])
            if step % 50 == 0 or step == total:
                logger.log(event="train", step=step, loss=loss, lr=opt.param_groups[0]["lr"],
                           seconds=time.perf_counter() - start)
        acc = evaluate(model, x_te, y_te, transform=data.normalize_cifar)
        logger.log(event="eval", step=step, epoch=step / steps_per_epoch, test_accuracy=acc)
        if progress is not None:
            progress.log(f"epoch {step / steps_per_epoch:.2f}: test_accuracy {acc:.4f}")
            progress.update(0, loss=loss, test_accuracy=acc)  # also logs the epoch's last loss
    return {"test_accuracy": acc, "steps": step, "seconds": time.perf_counter() - start,
            "model": model}


def finetune_image_folder(cfg: FinetuneConfig | None = None,
                          progress: runlog.Progress | None = None) -> dict:
    """Transfer learning: load a trained ResNet-18, new classifier, train on an image folder."""
    cfg = cfg or FinetuneConfig()
    torch.manual_seed(cfg.seed)
    dev = torch.device(cfg.device)
    x, y, classes = data.load_image_folder(cfg.data, cfg.image_size)
    model = ResNet18(width=cfg.width)
    if cfg.checkpoint:
        state = torch.load(cfg.checkpoint, map_location="cpu", weights_only=True)
        state = {k: v for k, v in state.items() if not k.startswith("fc.")}
        model.load_state_dict(state, strict=False)
    model.fc = nn.Linear(model.fc.in_features, len(classes))
    for name, p in model.named_parameters():
        p.requires_grad_(cfg.train_backbone or name.startswith("fc."))
    model.to(dev)
    gen = torch.Generator().manual_seed(cfg.seed)
    split = torch.randperm(len(y), generator=gen)
    n_val = max(1, len(y) // 5)
    val, tr = split[:n_val], split[n_val:]
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=cfg.lr)
    history = []
    for epoch in range(cfg.epochs):
        loss, _ = train_epoch(model, opt, x[tr].to(dev), y[tr].to(dev), cfg.batch_size, gen)
        history.append({"epoch": epoch, "loss": loss,
                        "val_accuracy": evaluate(model, x[val].to(dev), y[val].to(dev))})
        _epoch_done(progress, history[-1])
    return {"classes": classes, "history": history, "model": model,
            "val_accuracy": history[-1]["val_accuracy"] if history else None}


def save_digits_plots(out: dict, folder: str | Path) -> list[Path]:
    """PNGs of a `train_lenet_digits` run: first-layer filters, curves, receptive field."""
    from hubkit.cnn import plots

    folder, model = Path(folder), out["model"]
    rf = plots.receptive_field([(5, 1, 1), (2, 2, 1), (5, 1, 1)])  # conv, pool, conv
    return [plots.plot_filters(model.features[0].weight, folder / "lenet_filters.png"),
            plots.plot_curves(out["history"], folder / "lenet_curves.png"),
            plots.plot_receptive_field(model.features[:4].eval(), (1, 32, 32),
                                       folder / "lenet_receptive_field.png", theory=rf)]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m hubkit.cnn.train",
                                     description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="task", required=True)
    digits = runlog.add_arguments(sub.add_parser(
        "digits", help="LeNet-5 on sklearn's handwritten digits (~1 min on a laptop CPU)"),
        "cnn-digits")
    digits.add_argument("--epochs", type=int, default=DigitsConfig.epochs,
                        help="passes over the training digits (default: %(default)s)")
    digits.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    cifar = runlog.add_arguments(sub.add_parser(
        "cifar", help="ResNet-18 on CIFAR-10 python pickles (a GPU run)"), "cnn-cifar")
    cifar.add_argument("--data", default=CifarConfig.data,
                       help="folder with data_batch_1..5 and test_batch")
    cifar.add_argument("--epochs", type=int, default=CifarConfig.epochs,
                       help="passes over CIFAR-10's training set (default: %(default)s)")
    ft = runlog.add_arguments(sub.add_parser(
        "finetune", help="fine-tune a trained ResNet-18 on FOLDER/<class>/*.png"), "cnn-finetune")
    ft.add_argument("--data", default=FinetuneConfig.data)
    ft.add_argument("--checkpoint", default=None, help="a ResNet18 state_dict (.pt)")
    return parser


def _run(args, outputs: runlog.Outputs, track: runlog.Tracker) -> dict:
    show = not args.quiet
    if args.task == "digits":
        cfg = DigitsConfig(epochs=args.epochs)
        track.config(asdict(cfg))
        with runlog.Progress(cfg.epochs, "epoch", enabled=show, tracker=track) as bar:
            out = train_lenet_digits(cfg, bar)
        if not args.no_plots:
            outputs.add(save_digits_plots(out, outputs.folder()))
        return out
    if args.task == "cifar":  # loss and lr every 50 steps, test accuracy every epoch
        cfg = CifarConfig(data=args.data, epochs=args.epochs)
        track.config(asdict(cfg))
        steps = cfg.epochs * math.ceil(50_000 / cfg.batch_size)
        with runlog.Progress(steps, "step", enabled=show, tracker=track, track_every=50) as bar:
            return train_cifar10(cfg, bar)
    cfg = FinetuneConfig(data=args.data, checkpoint=args.checkpoint)
    track.config(asdict(cfg))
    with runlog.Progress(cfg.epochs, "epoch", enabled=show, tracker=track) as bar:
        return finetune_image_folder(cfg, bar)


def main(argv: list[str] | None = None) -> None:
    """Command line: digits | cifar | finetune (see the module docstring)."""
    args = _parser().parse_args(argv)
    outputs = runlog.Outputs(args.out, f"{args._run_name}")
    with runlog.quiet_third_party(), runlog.tracker(args, outputs) as track:
        out = _run(args, outputs, track)
    torch.save(out["model"].state_dict(), outputs.path("model.pt"))
    summary = {k: v for k, v in out.items() if k != "model"}
    outputs.path("summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    if "history" in out:
        with outputs.path("history.jsonl").open("w") as f:
            f.writelines(json.dumps(r) + "\n" for r in out["history"])
    print({k: v for k, v in summary.items() if k != "history"})
    outputs.report()


if __name__ == "__main__":
    runlog.run_main(main)
