"""Loss curves of language-model runs as PNG files (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path


def plot_curves(history: list[dict], path: Path, title: str, x: str = "tokens",
                curves: dict[str, list[dict]] | None = None) -> Path:
    """Training and validation loss (nats per token) of one run, or of several named runs.

    Args:
        history: records with `x`, "loss" and, on some, "val_loss".
        path: the PNG to write.
        title: the plot's title.
        x: the key of the horizontal axis ("tokens" or "step").
        curves: several runs {name: history} instead of `history` (then only validation).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    runs = curves or {"": history}
    for name, rows in runs.items():
        train = [(r[x], r["loss"]) for r in rows if "loss" in r]
        val = [(r[x], r["val_loss"]) for r in rows if r.get("val_loss") is not None]
        if train and curves is None:
            ax.plot(*zip(*train, strict=True), label="train", alpha=0.6, linewidth=0.8)
        if val:
            ax.plot(*zip(*val, strict=True), marker="o", markersize=3,
                    label=f"{name} validation".strip())
    ax.set_xlabel(x)
    ax.set_ylabel("cross-entropy (nats / token)")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
