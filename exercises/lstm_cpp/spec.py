"""Checker spec for lstm_cpp: the learner's C++ LSTM layer forward over a sequence (float32).

The reference is `hubkit.rnn.reference.lstm_forward_reference` in float64; the
outputs are y (every step's h), h_n and c_n. Timed against the reference and
hubkit's own fused kernel (`hubkit.ops.lstm`, backend cpp).
"""

from __future__ import annotations

from hubkit.check import Case, CheckContext, OpSpec, randn
from hubkit.rnn import reference as R
from hubkit.rnn.ops import lstm

# (T, B, I, H): odd sizes, a single unit, H past 8/16/32/64-wide vectors, B > 1 everywhere
# but one case, so state shared across the batch shows.
SHAPES = [(5, 3, 4, 7), (1, 1, 1, 1), (7, 2, 5, 33), (4, 5, 3, 70), (3, 2, 8, 129)]
FAST_SHAPES = SHAPES[:3]


def reference(x, h0, c0, w_ih, w_hh, bias):
    return R.lstm_forward_reference(x, h0, c0, w_ih, w_hh, bias)[:3]


def _case(ctx: CheckContext, t: int, b: int, i: int, h: int) -> Case:
    def w(*shape):
        return randn(ctx, *shape, shift=False) * (0.8 / (i + h) ** 0.5 * 2)

    inputs = {"x": randn(ctx, t, b, i, layout="strided"), "h0": randn(ctx, b, h),
              "c0": randn(ctx, b, h), "w_ih": w(4 * h, i), "w_hh": w(4 * h, h),
              "bias": randn(ctx, 4 * h, shift=False)}
    return Case(f"x({t}, {b}, {i}) H={h}", inputs, reduction=(i + h) * t)


def cases(ctx: CheckContext) -> list[Case]:
    return [_case(ctx, *s) for s in (FAST_SHAPES if ctx.fast else SHAPES)]


def call(learner, ctx: CheckContext, x, h0, c0, w_ih, w_hh, bias):
    """What hubkit's own op does before its kernel: contiguous inputs, fresh outputs."""
    x, h0, c0, w_ih, w_hh, bias = (v.contiguous() for v in (x, h0, c0, w_ih, w_hh, bias))
    t, b, i = x.shape
    h = h0.shape[1]
    y, hn, cn = ctx.empty(t, b, h), ctx.empty(b, h), ctx.empty(b, h)  # NaN-filled
    learner.lstm_forward(x.data_ptr(), h0.data_ptr(), c0.data_ptr(), w_ih.data_ptr(),
                         w_hh.data_ptr(), bias.data_ptr(), y.data_ptr(), hn.data_ptr(),
                         cn.data_ptr(), t, b, i, h)
    return y, hn, cn


def bench(ctx: CheckContext) -> Case:
    return _case(ctx, 64, 8, 128, 128)


SPEC = OpSpec(
    reference=reference,
    cases=cases,
    call=call,
    shipped=lambda x, h0, c0, w_ih, w_hh, bias: lstm(x, h0, c0, w_ih, w_hh, bias,
                                                      backend="cpp"),
    forbidden=("aten::lstm", "aten::_thnn_fused_lstm_cell", "hubkit::lstm"),
    bench=bench,
    names={"reference": "hubkit.rnn.reference.lstm_forward_reference (a loop over time)",
           "shipped": "hubkit.ops.lstm, cpp backend (hubkit's fused C++ LSTM)"},
)
