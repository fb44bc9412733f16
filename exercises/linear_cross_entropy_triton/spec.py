"""Checker spec for linear_cross_entropy_triton: loss and gradients of h and W, chunked.

Cases: odd N, D and V, vocabularies past one BLOCK_V block (with a tail), some
targets set to ignore_index, "mean" and "sum", one case with logits in the
hundreds (an unshifted softmax overflows), and N several chunks tall while h
and W are smaller than N x V, so a full-size logits buffer is told apart.
"""

from __future__ import annotations

import torch

from hubkit.check import Case, CheckContext, OpSpec, randn
from hubkit.exercise_support.storages import NewStorages
from hubkit.lm.cross_entropy import linear_cross_entropy_reference
from hubkit.lm.ops import linear_cross_entropy

IGNORE = -100
# (N, D, V, reduction, logit scale)
SHAPES = [(50, 13, 97, "mean", 1.0), (37, 8, 150, "sum", 1.0), (1, 5, 3, "mean", 1.0),
          (70, 9, 131, "mean", 1.0), (21, 6, 65, "mean", 60.0)]
FAST_SHAPES = [SHAPES[0], SHAPES[1], SHAPES[4]]
# The point is the Triton softmax: torch's softmax, exp and log (and hubkit's op) are off limits.
FORBIDDEN = ("aten::_log_softmax", "aten::log_softmax", "aten::_softmax", "aten::softmax",
             "aten::_safe_softmax", "aten::logsumexp", "aten::exp", "aten::log",
             "aten::nll_loss_forward", "aten::nll_loss_nd", "aten::nll_loss",
             "aten::cross_entropy_loss", "hubkit::linear_cross_entropy")


def _case(ctx: CheckContext, n, d, v, reduction, big) -> Case:
    h = randn(ctx, n, d, layout="strided", shift=big == 1.0)
    w = randn(ctx, v, d, shift=False) * (big / d ** 0.5)
    t = torch.randint(0, v, (n,), generator=ctx.gen)
    t[torch.rand(n, generator=ctx.gen) < 0.25] = IGNORE
    if not bool((t != IGNORE).any()):
        t[0] = 0  # at least one counted row (all ignored is the NaN edge case)
    logits = float((h @ w.T).abs().max())
    name = f"h({n}, {d}) W({v}, {d}) {reduction}" + (", large logits" if big != 1.0 else "")
    # float32 rounding of a logit L moves exp(L) by ~eps * L: the error grows with L.
    return Case(name, {"h": h, "weight": w, "targets": t.to(ctx.device),
                       "ignore_index": IGNORE, "reduction": reduction},
                reduction=max(d, v), condition=max(1.0, logits / 10))


def cases(ctx: CheckContext) -> list[Case]:
    return [_case(ctx, *s) for s in (FAST_SHAPES if ctx.fast else SHAPES)]


def call(learner, ctx: CheckContext, h, weight, targets, ignore_index, reduction):
    """Run the learner's op, watching for a buffer as large as the (N, V) logits."""
    (n, d), v = h.shape, weight.shape[0]
    watch = NewStorages()
    with watch:
        loss = learner.linear_cross_entropy(h, weight, targets, ignore_index, reduction)
    if n * v > 2 * max(n * d, v * d):  # h, W and their gradients stay below this
        big = [shape for numel, shape in watch.made.values() if numel >= n * v]
        if big:
            ctx.fail(f"your forward materializes a buffer {big[0]} as large as the ({n}, {v}) "
                     "logits: compute them a chunk of rows at a time")
    return loss


def bench(ctx: CheckContext) -> Case:
    return _case(ctx, 4096, 256, 8192, "mean", 1.0)


SPEC = OpSpec(
    reference=linear_cross_entropy_reference,
    cases=cases,
    call=call,
    shipped=lambda h, w, t, ii, red: linear_cross_entropy(h, w, t, ii, red),
    grads=("h", "weight"),
    forbidden=FORBIDDEN,
    bench=bench,
    names={"reference": "hubkit.lm.cross_entropy.linear_cross_entropy_reference (full logits)",
           "shipped": "hubkit.ops.linear_cross_entropy (hubkit's default backend for the device)"},
)
