"""Checker spec for attention_triton_bwd: dq, dk, dv of the fused attention.

The learner's own (given) forward produces out and lse; the learner's backward
must then match the float64 gradients of softmax(q k^T / sqrt(D)) v under the
upstream gradient `do`. Cases: tails (T = 37 with 16-wide blocks), one query,
Tq != Tk, causal and not. (With a single key, dq is exactly 0 and any rounding
would fail a relative check, so the one-query case has 7 keys.)
"""

from __future__ import annotations

import math

import torch

from hubkit.attention import reference as R
from hubkit.check import Case, CheckContext, OpSpec, randn

# (B, H, Tq, Tk, D, causal)
SHAPES = [(1, 2, 37, 37, 16, True), (1, 2, 20, 45, 32, False), (1, 1, 1, 7, 16, False),
          (2, 2, 64, 64, 16, True), (1, 2, 45, 20, 16, False)]
FAST_SHAPES = SHAPES[:3]


def reference(q, k, v, do, causal):
    scale = 1.0 / math.sqrt(q.shape[-1])
    out, lse = R.attention_forward_reference(q, k, v, causal, scale)
    return R.attention_backward_reference(do, q, k, v, out, lse, causal, scale)


def _case(ctx, b, h, tq, tk, d, causal) -> Case:
    q = randn(ctx, b, h, tq, d, layout="strided")
    k, v = randn(ctx, b, h, tk, d), randn(ctx, b, h, tk, d, layout="transposed")
    inputs = {"q": q, "k": k, "v": v, "do": randn(ctx, b, h, tq, d), "causal": causal}
    name = f"q({b}, {h}, {tq}, {d}) k,v({b}, {h}, {tk}, {d}) causal={causal}"
    return Case(name, inputs, reduction=max(tq, tk, d))


def cases(ctx: CheckContext) -> list[Case]:
    return [_case(ctx, *s) for s in (FAST_SHAPES if ctx.fast else SHAPES)]


def call(learner, ctx: CheckContext, q, k, v, do, causal):
    out, lse = learner.attention_forward(q, k, v, causal)
    return tuple(learner.attention_backward(do, q, k, v, out, lse, causal))


def _shipped(q, k, v, do, causal):
    from hubkit.attention.ops import attention

    q, k, v = (t.detach().requires_grad_() for t in (q, k, v))
    return torch.autograd.grad(attention(q, k, v, causal=causal), (q, k, v), do)


def bench(ctx: CheckContext) -> Case:
    return _case(ctx, 4, 8, 1024, 1024, 64, True)


SPEC = OpSpec(
    reference=reference,
    cases=cases,
    call=call,
    shipped=_shipped,
    forbidden=("aten::_scaled_dot_product_flash_attention_backward",
               "aten::_scaled_dot_product_efficient_attention_backward",
               "aten::_scaled_dot_product_flash_attention_for_cpu_backward",
               "aten::_scaled_dot_product_cudnn_attention_backward",
               "aten::_softmax_backward_data", "hubkit::attention_backward"),
    bench=bench,
    names={"reference": "hubkit.attention.reference's backward (torch ops, float64 spec)",
           "shipped": "hubkit.ops.attention's backward (hubkit's FlashAttention-2 style kernels)"},
)
