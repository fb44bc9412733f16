"""Checker spec for rnn_bptt: a tanh RNN forward and its BPTT backward, against torch autograd.

The reference is `hubkit.rnn.reference.rnn_forward`, differentiated by
autograd in float64. The first case has several sequences in the batch, so
state that leaks from one sequence into another shows at once.
"""

from __future__ import annotations

from hubkit.check import CheckContext, CustomSpec
from hubkit.exercise_support import rnn_check
from hubkit.rnn import reference

SHAPES = [(6, 3, 2, 4), (1, 1, 1, 1), (9, 2, 3, 33)]  # (T, B, I, H)
ARGS = ("x", "h0", "w_ih", "w_hh", "b")


def _case(learner, ctx: CheckContext, t: int, b: int, i: int, h: int) -> None:
    what = f"T={t} B={b} I={i} H={h}"
    v = rnn_check.draw(ctx, {"x": (t, b, i), "h0": (b, h), "w_ih": (h, i), "w_hh": (h, h),
                             "b": (h,)}, scale={"w_hh": 0.9 / h ** 0.5})
    leaves = {k: x.clone().requires_grad_() for k, x in v.items()}
    hs = reference.rnn_forward(*leaves.values())
    got = rnn_check.call_unchanged(ctx, learner.rnn_forward, f"forward, {what}",
                                   {k: v[k].numpy().copy() for k in ARGS})
    rnn_check.compare(f"forward, {what}", (got,), {"hs": hs.detach()})
    upstream = rnn_check.draw(ctx, {"grad_hs": (t, b, h)})["grad_hs"]
    arrays = {"grad_hs": upstream.numpy().copy(), **{k: v[k].numpy().copy() for k in ARGS[:4]},
              "hs": hs.detach().numpy().copy()}
    grads = rnn_check.call_unchanged(ctx, learner.rnn_backward, f"backward, {what}", arrays)
    want = rnn_check.grads((hs,), (upstream,), leaves)
    rnn_check.compare(f"backward, {what}", grads, want)


def check(learner, ctx: CheckContext) -> None:
    for shape in SHAPES[:2] if ctx.fast else SHAPES:
        _case(learner, ctx, *shape)


SPEC = CustomSpec(check=check, forbidden=("aten::rnn_tanh", "aten::rnn_tanh_cell"))
