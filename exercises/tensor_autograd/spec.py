"""Checker spec for tensor_autograd: the learner's Tensor against torch.autograd (float64).

Each expression is built from the same arrays with the learner's Tensor and
with torch tensors; values and every leaf's gradient are compared. Shapes
include broadcast biases, (1, M) rows and (N, 1) columns.
"""

from __future__ import annotations

import numpy as np
import torch

from hubkit.basics.tensorlib import unbroadcast
from hubkit.check import CheckContext, CheckFailure, CustomSpec

# name -> (leaf shapes, expression written once for both libraries)
EXPRESSIONS = {
    "x * y": ([(3, 4), (3, 4)], lambda x, y: (x * y).sum()),
    "x + b (b broadcast over rows)": ([(5, 3), (3,)], lambda x, b: (x + b).sum()),
    "x * c (c a (N, 1) column)": ([(4, 3), (4, 1)], lambda x, c: (x * c).sum()),
    "x * x": ([(2, 3)], lambda x: (x * x).sum()),
    "x @ w": ([(5, 3), (3, 2)], lambda x, w: ((x @ w) * (x @ w)).sum()),
    "relu(x)": ([(6, 4)], lambda x: (x.relu() * x).sum()),
    "relu(x @ w + b) @ v": ([(7, 4), (4, 5), (5,), (5, 2)],
                            lambda x, w, b, v: (((x @ w + b).relu() @ v) * 1.5).sum()),
}


def _torch_relu(t):
    return t.relu()


def _check_unbroadcast(learner, ctx, rng) -> None:
    for gshape, shape in (((4, 3), (3,)), ((4, 3), (4, 1)), ((2, 4, 3), (1, 3))):
        g = rng.standard_normal(gshape)
        with ctx.guard():
            got = np.asarray(learner.unbroadcast(g, shape))
        if got.shape != shape or not np.allclose(got, unbroadcast(g, shape)):
            raise CheckFailure(f"unbroadcast(grad {gshape}, {shape}) gave shape {got.shape} "
                               "or wrong values: sum over the axes broadcasting stretched")


def _check_expression(learner, ctx, rng, name, shapes, build) -> None:
    arrays = [rng.standard_normal(s) for s in shapes]
    with ctx.guard():
        leaves = [learner.Tensor(a) for a in arrays]
        out = build(*leaves)
        out.backward()
        value = float(np.asarray(out.data).reshape(-1)[0])  # 0-d arrays travel as (1,)
        grads = [leaf.grad for leaf in leaves]
    tleaves = [torch.tensor(a, requires_grad=True) for a in arrays]
    tout = build(*tleaves)
    tout.backward()
    if not np.isclose(value, tout.item(), rtol=1e-9):
        raise CheckFailure(f"{name}: forward value {value:.8g}, expected {tout.item():.8g}")
    for i, (g, t) in enumerate(zip(grads, tleaves, strict=True)):
        want = t.grad.numpy()
        got = None if g is None else np.asarray(g, dtype=np.float64)
        if got is None or got.shape != want.shape or not np.allclose(got, want, rtol=1e-9,
                                                                     atol=1e-12):
            shape = None if got is None else got.shape
            raise CheckFailure(f"{name}: the gradient of input {i} (shape {want.shape}) is "
                               f"wrong (got shape {shape}): check that node's backward, and "
                               "that gradients accumulate (+=) and are unbroadcast")


def check(learner, ctx: CheckContext) -> None:
    rng = np.random.default_rng(int(torch.randint(1 << 30, (1,), generator=ctx.gen)))
    _check_unbroadcast(learner, ctx, rng)
    for name, (shapes, build) in EXPRESSIONS.items():
        _check_expression(learner, ctx, rng, name, shapes, build)
    ctx.note("values and gradients match torch.autograd on broadcasting expressions")


SPEC = CustomSpec(check=check)
