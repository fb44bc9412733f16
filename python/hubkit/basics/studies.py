"""Figures for Parts 1.2 and 3.4: gradient fields, optimizer races, regularization, schedules.

Each `plot_*` function saves one PNG and returns its path; the numbers behind
each figure come from a plain function (`regularization_study`,
`schedule_curves`, hubkit.basics.train.race_optimizers) that the tests check.
The regularization study fits a degree-12 polynomial to 15 noisy samples of
sin(2 pi x): unregularized it threads every point and swings between them; an
L2 penalty shrinks all weights, an L1 penalty sets many to exactly zero.

Shapes: x (N,), features Phi (N, degree + 1), weights w (degree + 1,).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from hubkit.basics.schedules import cosine_annealing, step_lr, warmup_cosine


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | Path) -> Path:
    out = Path(path)
    fig.tight_layout()
    fig.savefig(out, dpi=80)
    fig.clear()
    _pyplot().close(fig)
    return out


def plot_gradient_field(f: Callable[[np.ndarray], float],
                        grad: Callable[[np.ndarray], np.ndarray], path: str | Path,
                        extent: float = 2.0) -> Path:
    """Contours of f with its gradient arrows: each arrow is perpendicular to the contour
    through its foot and points uphill, the direction of steepest ascent."""
    plt = _pyplot()
    g = np.linspace(-extent, extent, 81)
    zz = np.array([[f(np.array([u, v])) for u in g] for v in g])
    c = np.linspace(-extent, extent, 13)
    pts = np.array([[u, v] for v in c for u in c])
    arrows = np.array([grad(p) for p in pts])
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.contour(g, g, zz, levels=20, linewidths=0.6)
    ax.quiver(pts[:, 0], pts[:, 1], arrows[:, 0], arrows[:, 1], angles="xy", color="tab:red")
    ax.set(title="gradient field: arrows point uphill, across the contours", aspect="equal")
    return _save(fig, path)


def plot_step_sizes(values: dict[float, np.ndarray], path: str | Path) -> Path:
    """f along gradient descent for each step size (log scale): crawl, converge, diverge."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for lr, v in values.items():
        ax.plot(np.abs(v) + 1e-16, label=f"lr = {lr:g}")
    ax.set(yscale="log", xlabel="step", ylabel="|f(x_t)|", title="step-size study")
    ax.legend()
    return _save(fig, path)


def plot_curves(curves: dict[str, np.ndarray], path: str | Path, title: str,
                ylabel: str = "training loss", log: bool = True) -> Path:
    """One line per named curve (e.g. race_optimizers' output)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, c in curves.items():
        ax.plot(c, label=name)
    ax.set(xlabel="step", ylabel=ylabel, title=title, yscale="log" if log else "linear")
    ax.legend()
    return _save(fig, path)


def poly_features(x: np.ndarray, degree: int) -> np.ndarray:
    """(N, degree + 1) columns x^0 .. x^degree."""
    return np.asarray(x, dtype=np.float64)[:, None] ** np.arange(degree + 1)[None, :]


def fit_polynomial(x: np.ndarray, y: np.ndarray, degree: int, penalty: str = "none",
                   strength: float = 0.0, steps: int = 20000) -> np.ndarray:
    """Least squares with an optional "l2" (closed form, ridge) or "l1" (ISTA) penalty.

    l1 uses proximal gradient descent: a gradient step on the squared error, then
    soft-thresholding, which sets small weights exactly to zero (Tibshirani, 1996).
    The bias (x^0) is never penalized.
    """
    phi = poly_features(x, degree)
    mask = np.r_[0.0, np.ones(degree)]
    if penalty in ("none", "l2"):
        lam = strength if penalty == "l2" else 0.0
        return np.linalg.lstsq(phi.T @ phi + lam * np.diag(mask), phi.T @ y, rcond=None)[0]
    if penalty != "l1":
        raise ValueError(f"penalty: expected none, l1 or l2, got {penalty!r}")
    lr = 1.0 / np.linalg.norm(phi, 2) ** 2
    w = np.zeros(degree + 1)
    for _ in range(steps):
        w = w - lr * phi.T @ (phi @ w - y)
        w = np.sign(w) * np.maximum(np.abs(w) - lr * strength * mask, 0.0)
    return w


def regularization_study(n: int = 15, degree: int = 12, seed: int = 0) -> dict[str, dict]:
    """Train/test MSE and weights of unregularized, L2 and L1 fits of noisy sin(2 pi x)."""
    rng = np.random.default_rng(seed)
    x, xt = rng.uniform(0, 1, n), np.linspace(0, 1, 200)
    y = np.sin(2 * np.pi * x) + 0.2 * rng.standard_normal(n)
    yt = np.sin(2 * np.pi * xt)
    out = {}
    for name, pen, lam in (("none", "none", 0.0), ("L2", "l2", 1e-4), ("L1", "l1", 1e-2)):
        w = fit_polynomial(x, y, degree, pen, lam)
        out[name] = {"w": w, "train_mse": float(np.mean((poly_features(x, degree) @ w - y) ** 2)),
                     "test_mse": float(np.mean((poly_features(xt, degree) @ w - yt) ** 2)),
                     "x": x, "y": y}
    return out


def plot_regularization(study: dict[str, dict], path: str | Path, degree: int = 12) -> Path:
    """The three fits over the data, and their weight magnitudes."""
    plt = _pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.8))
    xt = np.linspace(0, 1, 200)
    first = next(iter(study.values()))
    a.scatter(first["x"], first["y"], color="k", s=15, label="data")
    a.plot(xt, np.sin(2 * np.pi * xt), "k--", lw=1, label="truth")
    for i, (name, r) in enumerate(study.items()):
        a.plot(xt, poly_features(xt, degree) @ r["w"], label=f"{name} (test {r['test_mse']:.3f})")
        b.bar(np.arange(degree + 1) + 0.27 * (i - 1), np.abs(r["w"]) + 1e-12, width=0.27,
              label=name)
    a.set(ylim=(-2, 2), title="degree-12 fits")
    b.set(yscale="log", title="|weight| per power of x", xlabel="power")
    a.legend(fontsize=7)
    b.legend(fontsize=7)
    return _save(fig, path)


def schedule_curves(total: int = 100, warmup: int = 10, base_lr: float = 0.1) -> dict:
    """Learning rate per step for step decay, cosine annealing and warmup + cosine."""
    t = range(total + 1)
    return {"step (x0.5 / 25)": np.array([step_lr(s, base_lr, 25, 0.5) for s in t]),
            "cosine": np.array([cosine_annealing(s, base_lr, total) for s in t]),
            "warmup + cosine": np.array([warmup_cosine(s, base_lr, warmup, total) for s in t])}
