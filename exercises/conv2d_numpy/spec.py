"""Checker spec for conv2d_numpy: the learner's NumPy conv2d forward."""

from __future__ import annotations

import numpy as np
import torch

from hubkit.check import Case, CheckContext, OpSpec
from hubkit.cnn import reference
from hubkit.cnn.ops import conv2d as hubkit_conv2d
from hubkit.exercise_support import conv2d_cases as exercise_cases

# The shared configs but the last (a kernel as large as the padded input).
CONFIGS = exercise_cases.CONFIGS[:5]


def cases(ctx: CheckContext) -> list[Case]:
    return exercise_cases.conv_cases(ctx, CONFIGS, dtype=torch.float64)


def spec_reference(x, weight, bias, stride, padding, dilation, groups):
    return torch.from_numpy(reference.conv2d_im2col(x.numpy(), weight.numpy(), bias.numpy(),
                                                    stride, padding, dilation, groups))


def call(learner, ctx: CheckContext, x, weight, bias, stride, padding, dilation, groups):
    """NumPy in, NumPy out: the learner gets float64 arrays (a copy; x keeps its strides)."""
    y = learner.conv2d(x.numpy(), weight.numpy(), bias.numpy(), stride, padding, dilation, groups)
    return torch.as_tensor(np.asarray(y))


def bench(ctx: CheckContext) -> Case:
    return exercise_cases.conv_case(ctx, (4, 16, 28, 28, 32, 3, 3, 1, 1, 1, 1), torch.float64)


SPEC = OpSpec(
    reference=spec_reference,
    cases=cases,
    call=call,
    shipped=lambda x, w, b, s, p, d, g: hubkit_conv2d(x, w, b, s, p, d, g, backend="reference"),
    forbidden=("aten::convolution", "aten::_convolution", "aten::conv2d", "aten::im2col",
               "hubkit::conv2d"),
    bench=bench,
    names={"reference": "hubkit.cnn.reference.conv2d_im2col (NumPy im2col + matmul)",
           "shipped": "hubkit.ops.conv2d, reference backend (im2col in torch ops)"},
)
