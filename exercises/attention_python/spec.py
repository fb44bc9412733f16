"""Checker spec for attention_python: attention and multi-head attention vs float64.

Attention cases pass (q, k, v, causal); multi-head cases pass (x, w_in, b_in,
w_out, b_out, num_heads, causal). One case has logits in the hundreds, where
an unshifted exp overflows float32.
"""

from __future__ import annotations

import math

from hubkit.attention import reference as R
from hubkit.check import Case, CheckContext, OpSpec, randn

# (B, H, Tq, Tk, D, causal): odd lengths, Tq != Tk, a single step.
SHAPES = [(1, 2, 37, 37, 16, True), (2, 1, 5, 11, 8, False), (1, 1, 1, 3, 4, False),
          (2, 3, 64, 64, 32, True), (1, 2, 33, 20, 16, False)]
FAST_SHAPES = SHAPES[:2]


def reference(*args):
    if len(args) == 4:  # q, k, v, causal
        q, k, v, causal = args
        return R.scaled_dot_product_attention(q, k, v, causal=causal)
    x, w_in, b_in, w_out, b_out, num_heads, causal = args
    p = {"in_proj_weight": w_in, "in_proj_bias": b_in, "out_proj.weight": w_out,
         "out_proj.bias": b_out}
    return R.multi_head_attention(x, x, x, p, num_heads, causal=causal)[0]


def _attention_case(ctx, b, h, tq, tk, d, causal, big=1.0) -> Case:
    shift = big == 1.0  # large-logit case: unshifted values, so logits ~ big * 2.7
    q = randn(ctx, b, h, tq, d, layout="strided", shift=shift) * big
    k, v = randn(ctx, b, h, tk, d, shift=shift), randn(ctx, b, h, tk, d, layout="transposed")
    name = f"q({b}, {h}, {tq}, {d}) k,v({b}, {h}, {tk}, {d}) causal={causal}"
    logits = float((q @ k.transpose(-1, -2)).abs().max()) / d ** 0.5
    if big != 1.0:
        name += f", logits up to {logits:.0f}"
    # float32 rounding of a logit L moves exp(L) by ~eps * L: the error grows with L.
    return Case(name, {"q": q, "k": k, "v": v, "causal": causal}, reduction=max(tk, d),
                condition=max(1.0, logits / 10))


def _mha_case(ctx, b, t, c, h, causal) -> Case:
    bound = 1 / math.sqrt(c)
    inputs = {"x": randn(ctx, b, t, c), "w_in": randn(ctx, 3 * c, c, shift=False) * bound,
              "b_in": randn(ctx, 3 * c) * 0.1, "w_out": randn(ctx, c, c, shift=False) * bound,
              "b_out": randn(ctx, c) * 0.1, "num_heads": h, "causal": causal}
    return Case(f"multi-head x({b}, {t}, {c}) heads={h} causal={causal}", inputs,
                reduction=max(t, c))


def cases(ctx: CheckContext) -> list[Case]:
    out = [_attention_case(ctx, *s) for s in (FAST_SHAPES if ctx.fast else SHAPES)]
    out.append(_attention_case(ctx, 1, 2, 9, 9, 16, False, big=60.0))
    out.append(_mha_case(ctx, 2, 7, 16, 4, True))
    if not ctx.fast:
        out.append(_mha_case(ctx, 3, 13, 24, 3, False))
    return out


def call(learner, ctx: CheckContext, *args):
    if len(args) == 4:
        return learner.attention(*args)
    return learner.multi_head_attention(*args)


def bench(ctx: CheckContext) -> Case:
    return _attention_case(ctx, 4, 4, 256, 256, 64, True)


SPEC = OpSpec(
    reference=reference,
    cases=cases,
    call=call,
    shipped=lambda q, k, v, causal: R.scaled_dot_product_attention(q, k, v, causal=causal),
    grads=("q", "k", "v", "x", "w_in", "b_in", "w_out", "b_out"),
    forbidden=("aten::_softmax", "aten::_safe_softmax", "aten::scaled_dot_product_attention",
               "aten::_scaled_dot_product_flash_attention_for_cpu",
               "aten::_scaled_dot_product_attention_math",
               "aten::_scaled_dot_product_flash_attention",
               "aten::_scaled_dot_product_efficient_attention",
               "aten::_scaled_dot_product_cudnn_attention", "hubkit::attention"),
    bench=bench,
    names={"reference": "hubkit.attention.reference (softmax(QK^T/sqrt(D))V in torch ops)",
           "shipped": "hubkit.attention.reference.scaled_dot_product_attention"},
)
