"""Checker spec for broadcasting: answers against hubkit.basics.numpy_drills, loops refused.

Before anything runs, the learner's file is parsed and any for/while loop or
comprehension inside the drill functions fails the check. Inputs are drawn
from the run's seed; softmax gets logits in the hundreds.
"""

from __future__ import annotations

import numpy as np
import torch

from hubkit.basics import numpy_drills as ref
from hubkit.check import CheckContext, CheckFailure, CustomSpec
from hubkit.exercise_support.source_rules import forbid_loops, learner_source

DRILLS = ("pairwise_sq_distances", "one_hot", "softmax_rows", "standardize_columns",
          "moving_average")


def _expect(got, want, what: str, hint: str) -> None:
    got = np.asarray(got, dtype=np.float64)
    if got.shape != want.shape:
        raise CheckFailure(f"{what}: shape {got.shape}, expected {want.shape}: {hint}")
    if not np.all(np.isfinite(got)):
        raise CheckFailure(f"{what}: NaN or Inf in the result: {hint}")
    if not np.allclose(got, want, rtol=1e-9, atol=1e-9):
        raise CheckFailure(f"{what}: max error {np.abs(got - want).max():.3g}: {hint}")


def check(learner, ctx: CheckContext) -> None:
    forbid_loops(learner_source(learner, "drills.py"), DRILLS)
    rng = np.random.default_rng(int(torch.randint(1 << 30, (1,), generator=ctx.gen)))
    x, y = rng.standard_normal((7, 3)), rng.standard_normal((5, 3))
    labels, z = rng.integers(0, 4, 9), rng.standard_normal((6, 5)) * 50 + 800
    values = rng.standard_normal(20)
    with ctx.guard():
        got = [learner.pairwise_sq_distances(x, y), learner.one_hot(labels, 4),
               learner.softmax_rows(z), learner.standardize_columns(x * [1, 10, 100] + 5),
               learner.moving_average(values, 4)]
    want = [ref.pairwise_sq_distances(x, y), ref.one_hot(labels, 4), ref.softmax_rows(z),
            ref.standardize_columns(x * [1, 10, 100] + 5), ref.moving_average(values, 4)]
    hints = ["x[:, None, :] - y[None, :, :] is (N, M, D); sum the squares over the last axis",
             "compare labels[:, None] with np.arange(k)[None, :]",
             "subtract each row's max (keepdims=True) before exp",
             "mean and std over axis 0 (down each column), broadcast back over the rows",
             "differences of one cumulative sum, c[w:] - c[:-w], divided by the window"]
    for name, g, w, h in zip(DRILLS, got, want, hints, strict=True):
        _expect(g, w, name, h)
    ctx.note("all five drills match, without a Python loop")


SPEC = CustomSpec(check=check)
