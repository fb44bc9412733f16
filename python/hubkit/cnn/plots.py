"""PNG pictures for the CNN lessons: learned filters, training curves, receptive fields.

matplotlib (Agg backend, no display needed) is imported inside each function.

The receptive field of one output unit after a stack of conv/pool layers grows
by (kernel - 1) * dilation * (product of earlier strides) per layer (Araujo et
al., 2019, https://distill.pub/2019/computing-receptive-fields/).
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_filters(weight: torch.Tensor, path: str | Path, title: str = "first-layer filters"):
    """Save each filter of a (K, C, R, S) weight as a small image (channel-mean if C != 3).

    Returns:
        the path written.
    """
    plt = _pyplot()
    w = weight.detach().float().cpu()
    w = w.permute(0, 2, 3, 1) if w.shape[1] == 3 else w.mean(1, keepdim=True).permute(0, 2, 3, 1)
    lo, hi = w.amin(dim=(1, 2, 3), keepdim=True), w.amax(dim=(1, 2, 3), keepdim=True)
    w = (w - lo) / (hi - lo).clamp_min(1e-8)  # each filter stretched to [0, 1]
    cols = math.ceil(math.sqrt(w.shape[0]))
    rows = math.ceil(w.shape[0] / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.2 * cols, 1.2 * rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < w.shape[0]:
            img = w[i].squeeze(-1) if w.shape[-1] == 1 else w[i]
            ax.imshow(img.numpy(), cmap="gray" if img.dim() == 2 else None, interpolation="nearest")
    fig.suptitle(title)
    return _save(fig, path)


def plot_curves(history: list[dict], path: str | Path, keys: tuple[str, ...] = ()):
    """Line plot of each numeric key of `history` (one dict per epoch) against the epoch."""
    plt = _pyplot()
    keys = keys or tuple(k for k in history[0] if k != "epoch")
    fig, axes = plt.subplots(1, len(keys), figsize=(4 * len(keys), 3), squeeze=False)
    for ax, key in zip(axes.flat, keys, strict=True):
        ax.plot([h.get("epoch", i) for i, h in enumerate(history)], [h[key] for h in history])
        ax.set_xlabel("epoch")
        ax.set_title(key)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def receptive_field(layers: list[tuple[int, int, int]]) -> int:
    """Side of the receptive field of one unit after layers of (kernel, stride, dilation).

    Example:
        >>> receptive_field([(3, 1, 1), (3, 1, 1)])  # two 3x3 convs see 5x5
        5
        >>> receptive_field([(5, 1, 1), (2, 2, 1), (5, 1, 1), (2, 2, 1)])  # LeNet-5
        16
    """
    size, jump = 1, 1
    for kernel, stride, dilation in layers:
        size += (kernel - 1) * dilation * jump
        jump *= stride
    return size


def effective_receptive_field(model: nn.Module, in_shape: tuple[int, int, int]) -> torch.Tensor:
    """|d center output / d input| summed over channels: which pixels one unit actually uses.

    Returns:
        (H, W) non-negative map.
    """
    x = torch.zeros(1, *in_shape, requires_grad=True)
    y = model(x)  # (1, K, P, Q)
    y[0, :, y.shape[2] // 2, y.shape[3] // 2].sum().backward()
    return x.grad[0].abs().sum(0)


def plot_receptive_field(model: nn.Module, in_shape: tuple[int, int, int], path: str | Path,
                         theory: int | None = None):
    """Save the effective receptive field of `model`'s center unit, with the theoretical box."""
    plt = _pyplot()
    erf = effective_receptive_field(model, in_shape)
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.imshow(erf.numpy(), cmap="magma")
    if theory is not None:
        h, w = erf.shape
        nz = (erf > 0).nonzero()
        cy, cx = nz.float().mean(0).tolist() if len(nz) else (h / 2, w / 2)
        ax.add_patch(plt.Rectangle((cx - theory / 2, cy - theory / 2), theory, theory,
                                   fill=False, edgecolor="cyan"))
    ax.set_title(f"receptive field (theory {theory}x{theory})" if theory else "receptive field")
    return _save(fig, path)


def _save(fig, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    _pyplot().close(fig)
    return path
