"""Small experiments on the basics references: an optimizer race and descent-path plots.

`race_optimizers` trains the same logistic-regression model on the same data
with SGD, Momentum, Adam and AdamW (optionally under a warmup + cosine
schedule) and returns each loss curve; `plot_descent_paths` draws gradient
descent paths for several step sizes over a function's contour lines. Both run
in well under a second on a laptop CPU. matplotlib is imported only when plotting.

Shapes: X is (N, D) features, y is (N,) labels in {0, 1}, w is (D,), b a scalar.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hubkit.basics.calculus import gradient_descent
from hubkit.basics.optim import SGD, Adam, AdamW, Momentum, Optimizer
from hubkit.basics.schedules import warmup_cosine


@dataclass
class RaceConfig:
    """Settings for race_optimizers.

    Attributes:
        n: number of training examples.
        dim: number of features.
        steps: full-batch optimizer steps per run.
        seed: seeds the data.
        schedule: use a linear warmup then cosine decay of each base learning rate.
        warmup: warmup steps when `schedule` is on.
    """

    n: int = 256
    dim: int = 10
    steps: int = 200
    seed: int = 0
    schedule: bool = False
    warmup: int = 20


def make_classification(n: int, dim: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two overlapping Gaussian classes: X (N, D) and labels y (N,) in {0, 1}."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    direction = rng.standard_normal(dim) / np.sqrt(dim)
    X = rng.standard_normal((n, dim)) + np.outer(2 * y - 1, direction) * 1.5
    return X, y.astype(np.float64)


def logistic_loss_and_grads(w: np.ndarray, b: np.ndarray, X: np.ndarray,
                            y: np.ndarray) -> tuple[float, list[np.ndarray]]:
    """Mean binary cross-entropy of sigmoid(X w + b) and its gradients [dw (D,), db (1,)]."""
    z = X @ w + b[0]
    # log(1 + e^z) - y z, written to stay finite for large |z|
    loss = float(np.mean(np.logaddexp(0.0, z) - y * z))
    p = 0.5 * (1 + np.tanh(0.5 * z))  # sigmoid without overflow
    err = (p - y) / len(y)
    return loss, [X.T @ err, np.array([err.sum()])]


def default_optimizers() -> dict[str, Callable[[list[np.ndarray]], Optimizer]]:
    """The contestants, with learning rates that suit each on this problem."""
    return {
        "SGD": lambda p: SGD(p, lr=0.5),
        "Momentum": lambda p: Momentum(p, lr=0.1, momentum=0.9),
        "Nesterov": lambda p: Momentum(p, lr=0.1, momentum=0.9, nesterov=True),
        "Adam": lambda p: Adam(p, lr=0.05),
        "AdamW": lambda p: AdamW(p, lr=0.05, weight_decay=0.01),
    }


def race_optimizers(cfg: RaceConfig | None = None,
                    optimizers: dict[str, Callable] | None = None) -> dict[str, np.ndarray]:
    """Train one logistic regression per optimizer from the same start; return loss curves.

    Returns:
        name -> (steps + 1,) training loss before each step and after the last.

    Example:
        >>> curves = race_optimizers(RaceConfig(steps=50))
        >>> all(c[-1] < c[0] for c in curves.values())
        True
    """
    cfg = cfg or RaceConfig()
    X, y = make_classification(cfg.n, cfg.dim, cfg.seed)
    curves = {}
    for name, make in (optimizers or default_optimizers()).items():
        params = [np.zeros(cfg.dim), np.zeros(1)]
        opt = make(params)
        base_lr, losses = opt.lr, []
        for t in range(cfg.steps):
            if cfg.schedule:
                opt.lr = warmup_cosine(t, base_lr, cfg.warmup, cfg.steps)
            loss, grads = logistic_loss_and_grads(*params, X, y)
            losses.append(loss)
            opt.step(grads)
        losses.append(logistic_loss_and_grads(*params, X, y)[0])
        curves[name] = np.array(losses)
    return curves


def plot_descent_paths(f: Callable[[np.ndarray], float], grad: Callable[[np.ndarray], np.ndarray],
                       x0: np.ndarray, lrs: Sequence[float], steps: int, path: str | Path,
                       extent: float = 3.0) -> Path:
    """Draw f's contour lines and one gradient-descent path per step size; save a PNG.

    Args:
        f, grad: a function of a (2,) point and its gradient.
        x0: (2,) start shared by every path.
        lrs: step sizes, one path each.
        steps: updates per path.
        path: where to write the PNG.
        extent: the plot shows [-extent, extent] on both axes.

    Returns:
        The PNG's path.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = np.linspace(-extent, extent, 121)
    zz = np.array([[f(np.array([u, v])) for u in grid] for v in grid])
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.contour(grid, grid, zz, levels=25, linewidths=0.6)
    for lr in lrs:
        trail = gradient_descent(f, grad, x0, lr, steps).path
        ax.plot(trail[:, 0], trail[:, 1], marker=".", label=f"lr = {lr:g}")
    ax.set(xlim=(-extent, extent), ylim=(-extent, extent), title="gradient descent paths")
    ax.legend()
    out = Path(path)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
