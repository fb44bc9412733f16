"""Checker spec for conv2d_cuda: the learner's CUDA conv2d forward (float32)."""

from __future__ import annotations

import torch

from hubkit.check import CheckContext, OpSpec
from hubkit.cnn.ops import conv2d as hubkit_conv2d
from hubkit.exercise_support.conv2d_cases import (
    FORBIDDEN,
    call_kernel,
    conv_case,
    conv_cases,
    reference_torch,
)


def call(learner, ctx: CheckContext, x, weight, bias, stride, padding, dilation, groups):
    """The C++ exercise's call, plus the CUDA stream to launch on."""
    return call_kernel(learner, ctx, x, weight, bias, stride, padding, dilation, groups,
                       torch.cuda.current_stream(x.device).cuda_stream)


SPEC = OpSpec(
    reference=reference_torch,
    cases=conv_cases,
    call=call,
    shipped=lambda x, w, b, st, pad, dil, g: hubkit_conv2d(x, w, b, st, pad, dil, g,
                                                           backend="cuda"),
    forbidden=FORBIDDEN,
    opcheck=True,
    bench=lambda ctx: conv_case(ctx, (8, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1)),
    names={"reference": "hubkit's im2col + matmul conv2d in torch ops",
           "shipped": "hubkit.ops.conv2d, cuda backend (hubkit's implicit-GEMM kernel)"},
)
