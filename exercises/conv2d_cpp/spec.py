"""Checker spec for conv2d_cpp: the learner's C++ conv2d forward (float32)."""

from __future__ import annotations

from hubkit.check import OpSpec
from hubkit.cnn.ops import conv2d as hubkit_conv2d
from hubkit.exercise_support.conv2d_cases import (
    FORBIDDEN,
    call_kernel,
    conv_case,
    conv_cases,
    reference_torch,
)

SPEC = OpSpec(
    reference=reference_torch,
    cases=conv_cases,
    call=call_kernel,
    shipped=lambda x, w, b, st, pad, dil, g: hubkit_conv2d(x, w, b, st, pad, dil, g,
                                                           backend="cpp"),
    forbidden=FORBIDDEN,
    opcheck=True,
    bench=lambda ctx: conv_case(ctx, (4, 32, 28, 28, 32, 3, 3, 1, 1, 1, 1)),
    names={"reference": "hubkit's im2col + matmul conv2d in torch ops",
           "shipped": "hubkit.ops.conv2d, cpp backend (hubkit's packed, register-blocked GEMM)"},
)
