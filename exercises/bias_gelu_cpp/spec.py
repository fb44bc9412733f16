"""Checker spec for bias_gelu_cpp: the learner's C++ forward of gelu(x + bias)."""

from __future__ import annotations

import torch

from hubkit.activations.ops import bias_gelu
from hubkit.activations.reference import bias_gelu_reference
from hubkit.check import Case, CheckContext, OpSpec, randn

# (rows..., cols): odd sizes, a single element, tails past 64/128-wide tiles.
SHAPES = [(1, 1), (3, 5), (7, 129), (2, 3, 1000), (33, 257)]
FAST_SHAPES = [(3, 5), (7, 129), (2, 5, 67)]


def cases(ctx: CheckContext) -> list[Case]:
    """Every other case is a non-contiguous view of x."""
    out = []
    for i, shape in enumerate(FAST_SHAPES if ctx.fast else SHAPES):
        layout = "strided" if i % 2 else "contiguous"
        x = randn(ctx, *shape, layout=layout)
        bias = randn(ctx, shape[-1])
        out.append(Case(f"x{shape} {layout}", {"x": x, "bias": bias}))
    return out


def call(learner, ctx: CheckContext, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """What hubkit's own op does before its kernel: contiguous inputs, a fresh output."""
    x, bias = x.contiguous(), bias.contiguous()
    out = ctx.empty_like(x)  # NaN-filled: elements your code never writes show up
    learner.bias_gelu_forward(x.data_ptr(), bias.data_ptr(), out.data_ptr(),
                              x.numel() // max(bias.numel(), 1), bias.numel())
    return out


def bench(ctx: CheckContext) -> Case:
    return Case("x(512, 1024)", {"x": randn(ctx, 512, 1024), "bias": randn(ctx, 1024)})


SPEC = OpSpec(
    reference=bias_gelu_reference,
    cases=cases,
    call=call,
    shipped=lambda x, bias: bias_gelu(x, bias, backend="cpp"),
    forbidden=("aten::gelu", "hubkit::bias_gelu"),
    opcheck=True,
    bench=bench,
    names={"reference": "hubkit.activations.reference (gelu(x + b) in torch ops)",
           "shipped": "hubkit.ops.bias_gelu, cpp backend (hubkit's vectorized C++)"},
)
