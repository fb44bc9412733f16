"""Checker spec for perceptron: against hubkit.basics.perceptron and torch's losses.

Separable data, layer sizes and logits (some in the hundreds) are drawn from
the run's seed.
"""

from __future__ import annotations

import numpy as np
import torch

from hubkit.basics.perceptron import Perceptron, mlp_forward, separable_blobs
from hubkit.check import CheckContext, CheckFailure, CustomSpec


def _expect(got, want, what: str, hint: str) -> None:
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape or not np.all(np.isfinite(got)) or \
            not np.allclose(got, want, rtol=1e-9, atol=1e-9):
        raise CheckFailure(f"{what}: got {np.round(got, 5).ravel()[:6].tolist()}, expected "
                           f"{np.round(want, 5).ravel()[:6].tolist()}: {hint}")


def _check_perceptron(learner, ctx, seed: int) -> None:
    X, y = separable_blobs(30, seed=seed)
    ref = Perceptron(2).fit(X, y, epochs=50)
    with ctx.guard():
        w, b = learner.perceptron_fit(X, y, 50)
    _expect(np.r_[w, b], np.r_[ref.w, ref.b], "perceptron_fit (w, b)",
            "start from zeros, visit points in order, update w += y x, b += y whenever "
            "y (w . x + b) <= 0")
    if not (np.where(X @ np.asarray(w) + b >= 0, 1, -1) == y).all():
        raise CheckFailure("perceptron_fit: the learned line does not separate the data")


def _check_forward(learner, ctx, rng) -> None:
    sizes = [4, 6, 5, 3]
    ws = [rng.standard_normal((a, b)) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    bs = [rng.standard_normal(b) for b in sizes[1:]]
    x = rng.standard_normal((7, 4))
    with ctx.guard():
        got = learner.mlp_forward(x, ws, bs)
    _expect(got, mlp_forward(x, ws, bs, act="relu"), "mlp_forward (3 layers)",
            "relu between layers, none after the last one (the logits can be negative)")


def _check_losses(learner, ctx, rng) -> None:
    pred, target = rng.standard_normal(9), rng.standard_normal(9)
    with ctx.guard():
        got = learner.mse(pred, target)
    _expect(got, np.mean((pred - target) ** 2), "mse", "the mean, not the sum, of squares")
    logits = rng.standard_normal((6, 4)) * 40 + 1000
    labels = rng.integers(0, 4, 6)
    want = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(labels)).item()
    with ctx.guard():
        got = learner.cross_entropy(logits, labels)
    _expect(got, want, "cross_entropy on logits near 1000",
            "use log-sum-exp with the row max subtracted; np.exp(1000) overflows")


def check(learner, ctx: CheckContext) -> None:
    seed = int(torch.randint(1 << 30, (1,), generator=ctx.gen))
    rng = np.random.default_rng(seed)
    _check_perceptron(learner, ctx, seed)
    _check_forward(learner, ctx, rng)
    _check_losses(learner, ctx, rng)
    ctx.note("perceptron, forward pass and both losses match")


SPEC = CustomSpec(check=check)
