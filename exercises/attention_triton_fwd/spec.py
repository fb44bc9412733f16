"""Checker spec for attention_triton_fwd: the fused forward's output and log-sum-exp.

Cases use tails (T = 37 with 16-wide blocks), T = 1, Tq != Tk, causal and not,
and one case with logits in the hundreds. The learner returns (out, lse).
"""

from __future__ import annotations

import math

import torch

from hubkit.attention import reference as R
from hubkit.attention.ops import attention
from hubkit.check import Case, CheckContext, OpSpec, randn

# (B, H, Tq, Tk, D, causal)
SHAPES = [(1, 2, 37, 37, 16, True), (1, 2, 20, 45, 32, False), (1, 1, 1, 1, 16, True),
          (2, 2, 64, 64, 16, True), (1, 2, 45, 20, 16, False)]
FAST_SHAPES = SHAPES[:2]


def reference(q, k, v, causal):
    out, lse = R.attention_forward_reference(q, k, v, causal, 1.0 / math.sqrt(q.shape[-1]))
    return out, lse


def _case(ctx, b, h, tq, tk, d, causal, big=1.0) -> Case:
    shift = big == 1.0  # large-logit case: unshifted values, so logits ~ big * 2.7
    q = randn(ctx, b, h, tq, d, layout="strided", shift=shift) * big
    k, v = randn(ctx, b, h, tk, d, shift=shift), randn(ctx, b, h, tk, d, layout="transposed")
    name = f"q({b}, {h}, {tq}, {d}) k,v({b}, {h}, {tk}, {d}) causal={causal}"
    if big != 1.0:
        name += ", large logits"
    logits = float((q @ k.transpose(-1, -2)).abs().max()) / d ** 0.5
    # float32 rounding of a logit L moves exp(L) by ~eps * L: the error grows with L.
    return Case(name, {"q": q, "k": k, "v": v, "causal": causal}, reduction=max(tk, d),
                condition=max(1.0, logits / 10))


def cases(ctx: CheckContext) -> list[Case]:
    out = [_case(ctx, *s) for s in (FAST_SHAPES if ctx.fast else SHAPES)]
    out.append(_case(ctx, 1, 1, 17, 17, 16, False, big=60.0))
    return out


def call(learner, ctx: CheckContext, q, k, v, causal):
    out, lse = learner.attention_forward(q, k, v, causal)
    return out, lse.to(torch.float32)


def bench(ctx: CheckContext) -> Case:
    return _case(ctx, 4, 8, 1024, 1024, 64, True)


SPEC = OpSpec(
    reference=reference,
    cases=cases,
    call=call,
    shipped=lambda q, k, v, causal: attention(q, k, v, causal=causal),
    out_dtype=torch.float32,
    forbidden=("aten::_softmax", "aten::_safe_softmax", "aten::scaled_dot_product_attention",
               "aten::_scaled_dot_product_flash_attention_for_cpu",
               "aten::_scaled_dot_product_attention_math",
               "aten::_scaled_dot_product_flash_attention",
               "aten::_scaled_dot_product_efficient_attention",
               "aten::_scaled_dot_product_cudnn_attention", "aten::logsumexp",
               "hubkit::attention"),
    bench=bench,
    names={"reference": "hubkit.attention.reference's forward (torch ops)",
           "shipped": "hubkit.ops.attention (hubkit's FlashAttention-2 style Triton kernel)"},
)
