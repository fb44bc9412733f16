"""Checker spec for conv2d_cuda: the learner's CUDA conv2d forward (float32)."""

from __future__ import annotations

import torch

from hubkit.check import Case, CheckContext, OpSpec, randn
from hubkit.cnn import reference
from hubkit.cnn.ops import conv2d as hubkit_conv2d
from hubkit.cnn.ops import conv2d_im2col_torch

# (N, C, H, W, K, R, S, stride, padding, dilation, groups): stride != dilation
# where both matter, odd sizes, groups > 1, a kernel as large as the padded input.
CONFIGS = [
    (2, 3, 7, 9, 4, 3, 3, 1, 1, 1, 1),
    (1, 4, 11, 10, 6, 3, 2, 2, 1, 1, 2),
    (2, 6, 13, 12, 6, 3, 3, 1, 2, 2, 3),
    (3, 4, 9, 8, 8, 2, 3, 3, 0, 2, 2),
    (1, 8, 17, 15, 16, 5, 5, 2, 2, 1, 1),
    (2, 2, 3, 4, 3, 5, 6, 1, 1, 1, 1),
]


def _case(ctx: CheckContext, cfg) -> Case:
    n, c, h, w, k, r, s, stride, padding, dilation, groups = cfg
    layout = "transposed" if n % 2 else "contiguous"
    inputs = {"x": randn(ctx, n, c, h, w, layout=layout),
              "weight": randn(ctx, k, c // groups, r, s), "bias": randn(ctx, k),
              "stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    return Case(f"x{(n, c, h, w)} w{(k, c // groups, r, s)} stride={stride} padding={padding} "
                f"dilation={dilation} groups={groups}", inputs, reduction=c // groups * r * s)


def cases(ctx: CheckContext) -> list[Case]:
    return [_case(ctx, cfg) for cfg in (CONFIGS[1:4] if ctx.fast else CONFIGS)]


def spec_reference(x, weight, bias, stride, padding, dilation, groups):
    """hubkit.cnn.reference.conv2d_im2col in torch ops, so opcheck's fake tensors pass too."""
    pair = lambda v: [v, v]  # noqa: E731
    return conv2d_im2col_torch(x, weight, bias, pair(stride), pair(padding), pair(dilation),
                               groups)


def call(learner, ctx: CheckContext, x, weight, bias, stride, padding, dilation, groups):
    """What hubkit's op does before its kernel: contiguous inputs, a fresh NaN-filled output."""
    x, weight, bias = x.contiguous(), weight.contiguous(), bias.contiguous()
    n, c, h, w = x.shape
    k, _, r, s = weight.shape
    p = reference.out_size(h, r, stride, padding, dilation)
    q = reference.out_size(w, s, stride, padding, dilation)
    out = ctx.empty(n, k, p, q, dtype=x.dtype, device=x.device)
    learner.conv2d_forward(x.data_ptr(), weight.data_ptr(), bias.data_ptr(), out.data_ptr(),
                           n, c, h, w, k, r, s, p, q, stride, padding, dilation, groups,
                           torch.cuda.current_stream(x.device).cuda_stream)
    return out


def bench(ctx: CheckContext) -> Case:
    return _case(ctx, (8, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1))


SPEC = OpSpec(
    reference=spec_reference,
    cases=cases,
    call=call,
    shipped=lambda x, w, b, st, pad, dil, g: hubkit_conv2d(x, w, b, st, pad, dil, g,
                                                           backend="cuda"),
    forbidden=("aten::convolution", "aten::_convolution", "aten::conv2d", "hubkit::conv2d"),
    opcheck=True,
    bench=bench,
)
