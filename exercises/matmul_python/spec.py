"""Checker spec for matmul_python: the learner's NumPy matmul(a, b) against float64.

The learner's function receives NumPy views of the case tensors (same memory,
same strides, so an in-place change shows up as a modified input) wrapped in a
guard subclass that rejects NumPy's own matrix products; torch's are rejected
by the checker's op guard. The guard catches the usual spellings (@, np.matmul,
np.dot, a.dot, np.einsum, ...), not deliberate evasion: a learner who strips it
with np.asarray(a) first can still reach np.matmul.
"""

from __future__ import annotations

import numpy as np
import torch

from hubkit.basics.reference import matmul_blocked
from hubkit.check import Case, CheckContext, CheckFailure, OpSpec, randn

# (N, K, M): square first (a transposed operand shows there), a single element,
# odd sizes, and sizes past one 32-wide tile in every dimension.
SHAPES = [(16, 16, 16), (1, 1, 1), (5, 7, 3), (33, 65, 17), (70, 40, 45)]
FAST_SHAPES = [(16, 16, 16), (5, 7, 3), (37, 40, 17)]
LAYOUTS = ["contiguous", "strided", "transposed"]
NUMPY_PRODUCTS = ("matmul", "dot", "vdot", "inner", "tensordot", "einsum", "multi_dot",
                  "outer", "kron")


def _forbidden(name: str) -> CheckFailure:
    return CheckFailure(f"calls NumPy's own {name}, which this exercise asks you to write "
                        "yourself: forbidden op")


class GuardedArray(np.ndarray):
    """An ndarray view that raises on NumPy's built-in matrix products."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if ufunc is np.matmul:
            raise _forbidden("matmul (np.matmul or the @ operator)")
        plain = tuple(x.view(np.ndarray) if isinstance(x, GuardedArray) else x for x in inputs)
        if "out" in kwargs:
            kwargs["out"] = tuple(o.view(np.ndarray) if isinstance(o, GuardedArray) else o
                                  for o in kwargs["out"])
        result = getattr(ufunc, method)(*plain, **kwargs)
        return _guard(result)

    def __array_function__(self, func, types, args, kwargs):
        if func.__name__ in NUMPY_PRODUCTS:
            raise _forbidden(f"np.{func.__name__}")
        return super().__array_function__(func, types, args, kwargs)

    def dot(self, *args, **kwargs):
        raise _forbidden("ndarray.dot")


def _guard(x):
    """Keep results guarded, so a product of derived arrays is caught too."""
    if isinstance(x, tuple):
        return tuple(_guard(v) for v in x)
    return x.view(GuardedArray) if type(x) is np.ndarray else x


def reference(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.from_numpy(matmul_blocked(a.detach().numpy(), b.detach().numpy()))


def cases(ctx: CheckContext) -> list[Case]:
    out = []
    for i, (n, k, m) in enumerate(FAST_SHAPES if ctx.fast else SHAPES):
        layout = LAYOUTS[i % len(LAYOUTS)]
        a, b = randn(ctx, n, k, layout=layout), randn(ctx, k, m)
        out.append(Case(f"a({n}, {k}) {layout} @ b({k}, {m})", {"a": a, "b": b}, reduction=k))
    return out


def call(learner, ctx: CheckContext, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    got = learner.matmul(a.numpy().view(GuardedArray), b.numpy().view(GuardedArray))
    if not isinstance(got, np.ndarray):
        raise CheckFailure(f"matmul returned {type(got).__name__}; expected a numpy.ndarray")
    return torch.from_numpy(np.array(got.view(np.ndarray)))


def bench(ctx: CheckContext) -> Case:
    return Case("a(64, 64) @ b(64, 64)", {"a": randn(ctx, 64, 64), "b": randn(ctx, 64, 64)},
                reduction=64)


SPEC = OpSpec(
    reference=reference,
    cases=cases,
    call=call,
    forbidden=("aten::mm", "aten::matmul", "aten::bmm", "aten::addmm", "aten::dot",
               "aten::mv", "aten::einsum", "aten::linear", "aten::baddbmm", "aten::tensordot"),
    bench=bench,
    names={"reference": "hubkit.basics.reference.matmul_blocked (NumPy, blocked loops)"},
)
