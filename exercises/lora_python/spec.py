"""Checker spec for lora_python: the learner's LoRALinear module (forward, init, freeze, merge)."""

from __future__ import annotations

import math

import torch
from torch import nn

from hubkit.check import Case, CheckContext, OpSpec, assert_close, randn
from hubkit.peft.ops import lora_linear
from hubkit.peft.reference import lora_linear_reference

# (rows..., in K, out N, rank r). The first case is square (K == N) so an answer that
# swaps A and B still runs and is caught by its values; the rest are not.
SHAPES = [((9,), 16, 16, 4), ((7,), 33, 17, 5), ((2, 5), 20, 41, 3), ((1,), 1, 1, 1),
          ((65,), 129, 70, 8)]
FAST_SHAPES = [((9,), 16, 16, 4), ((7,), 33, 17, 5), ((2, 5), 20, 41, 3)]


def cases(ctx: CheckContext) -> list[Case]:
    """x strided in every other case; scale = alpha / r varies."""
    out = []
    for i, (lead, k, n, r) in enumerate(FAST_SHAPES if ctx.fast else SHAPES):
        layout = "strided" if i % 2 else "contiguous"
        inputs = {"x": randn(ctx, *lead, k, layout=layout),
                  "weight": randn(ctx, n, k, shift=False) / math.sqrt(k),
                  "bias": randn(ctx, n), "lora_a": randn(ctx, r, k, shift=False),
                  "lora_b": randn(ctx, n, r, shift=False),
                  "scale": 0.5 + float(torch.rand((), generator=ctx.gen)) * 3}
        out.append(Case(f"x{(*lead, k)} {layout}, W({n}, {k}), r={r}", inputs, reduction=k))
    return out


def _check_setup(ctx: CheckContext, layer: nn.Module, k: int) -> None:
    trained = sorted(n for n, p in layer.named_parameters() if p.requires_grad)
    if any(n.startswith("base.") for n in trained):
        ctx.fail(f"your layer trains the frozen base weight (trainable: {trained}); LoRA "
                 "trains only lora_a and lora_b: call self.base.requires_grad_(False)")
    if trained != ["lora_a", "lora_b"]:
        ctx.fail(f"expected exactly lora_a and lora_b to train, found {trained}")
    if bool(layer.lora_b.detach().ne(0).any()):
        ctx.fail("lora_b must start at zero, so training starts from the base model "
                 "(did you swap the initializations of A and B?)")
    bound, a = 1 / math.sqrt(k), layer.lora_a.detach()
    if not bool(a.ne(0).any()) or float(a.abs().max()) > bound * 1.0001:
        ctx.fail(f"lora_a must start Kaiming-uniform random in [-{bound:.3g}, {bound:.3g}] "
                 "(nn.init.kaiming_uniform_(a, a=math.sqrt(5)), as nn.Linear does)")


def _check_merge(learner, x, weight, bias, lora_a, lora_b, scale) -> None:
    n, k = weight.shape
    with torch.no_grad():
        layer = _build(learner, weight, bias, lora_a.shape[0], scale)
        layer.lora_a.copy_(lora_a)
        layer.lora_b.copy_(lora_b)
        layer.merge()
        got = layer.base(x)
    # subtle: this runs in the learner's process, where hubkit's reference is out of reach;
    # the merged weight W + scale * B A is written out here in float64.
    x64, w64, b64, a64, bb64 = (t.detach().double() for t in (x, weight, bias, lora_a, lora_b))
    want = x64 @ (w64 + scale * bb64 @ a64).T + b64
    assert_close(got, want, name="base layer's output after merge()", dtype=x.dtype, reduction=k)


def _build(learner, weight, bias, r, scale) -> nn.Module:
    n, k = weight.shape
    base = nn.Linear(k, n, dtype=weight.dtype, device=weight.device)
    with torch.no_grad():
        base.weight.copy_(weight)
        base.bias.copy_(bias)
    return learner.LoRALinear(base, r, alpha=scale * r)


def call(learner, ctx: CheckContext, x, weight, bias, lora_a, lora_b, scale):
    """Build the learner's layer, check its setup, then run it with the case's tensors."""
    layer = _build(learner, weight, bias, lora_a.shape[0], scale)
    _check_setup(ctx, layer, weight.shape[1])
    params = {"base.weight": weight, "base.bias": bias, "lora_a": lora_a, "lora_b": lora_b}
    y = torch.func.functional_call(layer, params, (x,))  # grads reach the case's tensors
    _check_merge(learner, x, weight, bias, lora_a, lora_b, scale)
    return y


SPEC = OpSpec(
    reference=lora_linear_reference,
    cases=cases,
    call=call,
    shipped=lambda x, w, b, a, bb, s: lora_linear(x, w, b, a, bb, s),
    grads=("x", "lora_a", "lora_b"),
    forbidden=("hubkit::lora_linear",),
    names={"reference": "hubkit.peft.reference.lora_linear_reference (torch ops)",
           "shipped": "hubkit.ops.lora_linear (hubkit's default backend for the device)"},
)
