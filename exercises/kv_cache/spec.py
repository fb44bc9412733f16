"""Checker spec for kv_cache: incremental decoding must equal the full causal pass.

Each case runs the learner's `cached_layer` the way generation does (a prompt in one
chunk, then one token or a few at a time: `decode` here) and compares
the outputs of every position with `causal_layer` on the whole sequence in float64.
"""

from __future__ import annotations

import math

import torch

from hubkit.check import Case, CheckContext, OpSpec, randn
from hubkit.lm import reference as R

# (B, T, C, H, prompt_len, chunk): odd sizes, a one-token prompt, chunks after the prompt.
SHAPES = [(2, 9, 12, 3, 4, 1), (1, 7, 8, 2, 1, 1), (3, 13, 20, 4, 5, 3),
          (2, 33, 48, 6, 16, 1), (1, 10, 16, 1, 3, 4)]
FAST_SHAPES = [SHAPES[0], SHAPES[2]]


def reference(x, wpe, w_qkv, w_out, num_heads, prompt_len, chunk):
    return R.causal_layer(x, wpe, w_qkv, w_out, num_heads)


def _case(ctx: CheckContext, b, t, c, h, prompt_len, chunk) -> Case:
    bound = 1 / math.sqrt(c)
    inputs = {"x": randn(ctx, b, t, c, layout="strided"), "wpe": randn(ctx, t + 5, c),
              "w_qkv": randn(ctx, 3 * c, c, shift=False) * bound,
              "w_out": randn(ctx, c, c, shift=False) * bound, "num_heads": h,
              "prompt_len": prompt_len, "chunk": chunk}
    name = f"x({b}, {t}, {c}) heads={h}: prompt of {prompt_len}, then {chunk} at a time"
    return Case(name, inputs, reduction=max(t, c))


def cases(ctx: CheckContext) -> list[Case]:
    return [_case(ctx, *s) for s in (FAST_SHAPES if ctx.fast else SHAPES)]


def decode(step, x, wpe, w_qkv, w_out, num_heads, prompt_len, chunk):
    """Outputs (B, T, C) of `step` run on the prompt, then on `chunk` tokens per call."""
    cache = {"k": None, "v": None}
    outs = [step(x[:, :prompt_len], cache, wpe, w_qkv, w_out, num_heads)]
    outs += [step(x[:, i:i + chunk], cache, wpe, w_qkv, w_out, num_heads)
             for i in range(prompt_len, x.shape[1], chunk)]
    return torch.cat(outs, dim=1)


def call(learner, ctx: CheckContext, *inputs):
    return decode(learner.cached_layer, *inputs)


def shipped(*inputs):
    return decode(R.cached_layer, *inputs)


def bench(ctx: CheckContext) -> Case:
    return _case(ctx, 4, 128, 256, 8, 16, 1)


SPEC = OpSpec(
    reference=reference,
    cases=cases,
    call=call,
    shipped=shipped,
    bench=bench,
    names={"reference": "hubkit.lm.reference.causal_layer (full recomputation)",
           "shipped": "hubkit.lm.reference.cached_layer (KV cache)"},
)
