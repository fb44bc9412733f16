"""Checker spec for conv2d_numpy: the learner's NumPy conv2d forward."""

from __future__ import annotations

import numpy as np
import torch

from hubkit.check import Case, CheckContext, OpSpec, randn
from hubkit.cnn import reference
from hubkit.cnn.ops import conv2d as hubkit_conv2d

# (N, C, H, W, K, R, S, stride, padding, dilation, groups): stride != dilation
# everywhere they matter, so swapping them shows; odd sizes; groups > 1.
CONFIGS = [
    (2, 3, 7, 9, 4, 3, 3, 1, 1, 1, 1),
    (1, 4, 11, 10, 6, 3, 2, 2, 1, 1, 2),
    (2, 6, 13, 12, 6, 3, 3, 1, 2, 2, 3),
    (3, 4, 9, 8, 8, 2, 3, 3, 0, 2, 2),
    (1, 8, 17, 15, 16, 5, 5, 2, 2, 1, 1),
]


def _case(ctx: CheckContext, cfg) -> Case:
    n, c, h, w, k, r, s, stride, padding, dilation, groups = cfg
    layout = "transposed" if n % 2 else "contiguous"
    inputs = {"x": randn(ctx, n, c, h, w, dtype=torch.float64, layout=layout),
              "weight": randn(ctx, k, c // groups, r, s, dtype=torch.float64),
              "bias": randn(ctx, k, dtype=torch.float64),
              "stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    return Case(f"x{(n, c, h, w)} w{(k, c // groups, r, s)} stride={stride} padding={padding} "
                f"dilation={dilation} groups={groups}", inputs, reduction=c // groups * r * s)


def cases(ctx: CheckContext) -> list[Case]:
    return [_case(ctx, cfg) for cfg in (CONFIGS[1:4] if ctx.fast else CONFIGS)]


def spec_reference(x, weight, bias, stride, padding, dilation, groups):
    return torch.from_numpy(reference.conv2d_im2col(x.numpy(), weight.numpy(), bias.numpy(),
                                                    stride, padding, dilation, groups))


def call(learner, ctx: CheckContext, x, weight, bias, stride, padding, dilation, groups):
    """NumPy in, NumPy out: the learner gets float64 arrays (a copy; x keeps its strides)."""
    y = learner.conv2d(x.numpy(), weight.numpy(), bias.numpy(), stride, padding, dilation, groups)
    return torch.as_tensor(np.asarray(y))


def bench(ctx: CheckContext) -> Case:
    return _case(ctx, (4, 16, 28, 28, 32, 3, 3, 1, 1, 1, 1))


SPEC = OpSpec(
    reference=spec_reference,
    cases=cases,
    call=call,
    shipped=lambda x, w, b, s, p, d, g: hubkit_conv2d(x, w, b, s, p, d, g, backend="reference"),
    forbidden=("aten::convolution", "aten::_convolution", "aten::conv2d", "aten::im2col",
               "hubkit::conv2d"),
    bench=bench,
)
