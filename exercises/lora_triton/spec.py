"""Checker spec for lora_triton: the learner's fused LoRA forward and backward in Triton."""

from __future__ import annotations

import math

import torch

from hubkit.check import Case, CheckContext, OpSpec, randn
from hubkit.exercise_support.storages import NewStorages
from hubkit.peft.ops import lora_linear
from hubkit.peft.reference import lora_linear_reference

# (rows..., K, N, r). The first case is square so an answer that swaps A and B runs
# (and fails on its values); in the second, x is smaller than any (M, N) or (N, K)
# buffer, so a full-size intermediate is told apart from a copy of x.
SHAPES = [((17,), 32, 32, 4), ((9,), 13, 70, 5), ((2, 7), 33, 19, 3), ((1,), 1, 1, 1),
          ((40,), 67, 45, 17)]
FAST_SHAPES = [((17,), 32, 32, 4), ((9,), 13, 70, 5), ((2, 7), 33, 19, 3)]
# Torch's own matmuls are off limits: the point is the fused kernel.
MATMULS = ("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::matmul",
           "aten::linear", "aten::dot", "aten::mv", "hubkit::lora_linear")


def cases(ctx: CheckContext) -> list[Case]:
    out = []
    for i, (lead, k, n, r) in enumerate(FAST_SHAPES if ctx.fast else SHAPES):
        layout = "strided" if i % 2 == 0 and i else "contiguous"
        inputs = {"x": randn(ctx, *lead, k, layout=layout),
                  "weight": randn(ctx, n, k, shift=False) / math.sqrt(k),
                  "bias": randn(ctx, n), "lora_a": randn(ctx, r, k, shift=False),
                  "lora_b": randn(ctx, n, r, shift=False),
                  "scale": 0.5 + float(torch.rand((), generator=ctx.gen)) * 3}
        out.append(Case(f"x{(*lead, k)} {layout}, W({n}, {k}), r={r}", inputs, reduction=k))
    return out


def call(learner, ctx: CheckContext, x, weight, bias, lora_a, lora_b, scale):
    """Run the learner's lora_linear, watching the forward for full-size intermediates."""
    m, (n, k) = x.numel() // max(x.shape[-1], 1), weight.shape
    watch = NewStorages()
    with watch:
        y = learner.lora_linear(x, weight, bias, lora_a, lora_b, scale)
    limit = min(m * n, n * k)
    if x.numel() < limit:  # a contiguous copy of x cannot reach the limit here
        keep = {t.untyped_storage().data_ptr() for t in (x, weight, bias, lora_a, lora_b, y)}
        big = [shape for ptr, (numel, shape) in watch.made.items()
               if ptr not in keep and numel >= limit]
        if big:
            ctx.fail(f"your forward materializes a full-size intermediate {big[0]} besides "
                     f"y ({m}, {n}): keep x A^T on chip (r columns) and write y once")
    return y


SPEC = OpSpec(
    reference=lora_linear_reference,
    cases=cases,
    call=call,
    shipped=lambda x, w, b, a, bb, s: lora_linear(x, w, b, a, bb, s),
    grads=("x", "bias", "lora_a", "lora_b"),
    forbidden=MATMULS,
    names={"reference": "hubkit.peft.reference.lora_linear_reference (torch ops)",
           "shipped": "hubkit.ops.lora_linear (hubkit's default backend for the device)"},
)
