"""Checker spec for lstm_cell_numpy: one LSTM step forward and backward, against torch autograd.

The reference is `hubkit.rnn.reference.lstm_cell` (torch's gate order and
layout), differentiated by autograd in float64; each output and each gradient
is compared under its own name, so a message says which one is wrong.
"""

from __future__ import annotations

from hubkit.check import CheckContext, CheckFailure, CustomSpec
from hubkit.exercise_support import rnn_check
from hubkit.rnn import reference

SHAPES = [(1, 1, 1), (3, 5, 7), (4, 2, 33)]  # (B, I, H): odd sizes, one H past a SIMD width
ARGS = ("x", "h", "c", "w_ih", "w_hh", "b")


def _case(learner, ctx: CheckContext, b: int, i: int, h: int) -> None:
    what = f"B={b} I={i} H={h}"
    t = rnn_check.draw(ctx, {"x": (b, i), "h": (b, h), "c": (b, h), "w_ih": (4 * h, i),
                             "w_hh": (4 * h, h), "b": (4 * h,)},
                       scale={"w_ih": 0.7, "w_hh": 0.5, "c": 2.0})
    up = rnn_check.draw(ctx, {"dh_next": (b, h), "dc_next": (b, h)})
    arrays = {k: t[k].numpy().copy() for k in ARGS}
    out = rnn_check.call_unchanged(ctx, learner.lstm_cell_forward, f"forward, {what}", arrays)
    leaves = {k: v.clone().requires_grad_() for k, v in t.items()}
    h_next, c_next = reference.lstm_cell(leaves["x"], (leaves["h"], leaves["c"]),
                                         leaves["w_ih"], leaves["w_hh"], leaves["b"])
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise CheckFailure(f"forward, {what}: return (h_next, c_next, cache), got "
                           f"{type(out).__name__}")
    # subtle: c_next first: a wrong gate shows there before it blurs into h_next.
    rnn_check.compare(f"forward, {what}", (out[1], out[0]),
                      {"c_next": c_next.detach(), "h_next": h_next.detach()})
    grads = rnn_check.call_unchanged(
        ctx, learner.lstm_cell_backward, f"backward, {what}",
        {k: v.numpy().copy() for k, v in up.items()}, out[2])
    rnn_check.compare(f"backward, {what}", grads,
                      rnn_check.grads((h_next, c_next), tuple(up.values()), leaves))


def check(learner, ctx: CheckContext) -> None:
    for shape in SHAPES[:2] if ctx.fast else SHAPES:
        _case(learner, ctx, *shape)


SPEC = CustomSpec(check=check, forbidden=("aten::lstm", "aten::lstm_cell", "hubkit::lstm"))
