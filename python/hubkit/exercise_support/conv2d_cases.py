"""What the conv2d exercises share: the graded cases, a traceable reference and the kernel call.

The NumPy, C++ and CUDA conv2d exercises grade the same convolutions; their
`spec.py` files import them from here, so a case added for one is added for all.
"""

from __future__ import annotations

import torch

from hubkit.check import Case, CheckContext, randn
from hubkit.cnn.ops import conv2d_im2col_torch

# (N, C, H, W, K, R, S, stride, padding, dilation, groups): stride != dilation
# wherever both matter (so swapping them shows), odd sizes, groups > 1, and
# last a kernel as large as the padded input.
CONFIGS = [
    (2, 3, 7, 9, 4, 3, 3, 1, 1, 1, 1),
    (1, 4, 11, 10, 6, 3, 2, 2, 1, 1, 2),
    (2, 6, 13, 12, 6, 3, 3, 1, 2, 2, 3),
    (3, 4, 9, 8, 8, 2, 3, 3, 0, 2, 2),
    (1, 8, 17, 15, 16, 5, 5, 2, 2, 1, 1),
    (2, 2, 3, 4, 3, 5, 6, 1, 1, 1, 1),
]
FORBIDDEN = ("aten::convolution", "aten::_convolution", "aten::conv2d", "hubkit::conv2d")


def conv_case(ctx: CheckContext, cfg, dtype: torch.dtype = torch.float32) -> Case:
    """One graded convolution; odd batch sizes get a non-contiguous (transposed) x."""
    n, c, h, w, k, r, s, stride, padding, dilation, groups = cfg
    layout = "transposed" if n % 2 else "contiguous"
    inputs = {"x": randn(ctx, n, c, h, w, dtype=dtype, layout=layout),
              "weight": randn(ctx, k, c // groups, r, s, dtype=dtype),
              "bias": randn(ctx, k, dtype=dtype),
              "stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    return Case(f"x{(n, c, h, w)} w{(k, c // groups, r, s)} stride={stride} padding={padding} "
                f"dilation={dilation} groups={groups}", inputs, reduction=c // groups * r * s)


def conv_cases(ctx: CheckContext, configs=CONFIGS, dtype: torch.dtype = torch.float32):
    """The cases of a run: three in the test suite's fast mode, all otherwise."""
    return [conv_case(ctx, cfg, dtype) for cfg in (configs[1:4] if ctx.fast else configs)]


def reference_torch(x, weight, bias, stride, padding, dilation, groups):
    """reference.conv2d_im2col in torch ops, so opcheck's fake tensors pass too."""
    pair = lambda v: [v, v]  # noqa: E731
    return conv2d_im2col_torch(x, weight, bias, pair(stride), pair(padding), pair(dilation),
                               groups)


def call_kernel(learner, ctx: CheckContext, x, weight, bias, stride, padding, dilation, groups,
                *extra):
    """What hubkit's op does before its kernel: contiguous inputs, a fresh NaN-filled output.

    `extra` goes last to the learner's `conv2d_forward` (the CUDA stream address).
    """
    x, weight, bias = x.contiguous(), weight.contiguous(), bias.contiguous()
    n, c, h, w = x.shape
    k, _, r, s = weight.shape
    # subtle: this runs in the learner's process, where hubkit.cnn is out of reach.
    p = (h + 2 * padding - dilation * (r - 1) - 1) // stride + 1
    q = (w + 2 * padding - dilation * (s - 1) - 1) // stride + 1
    out = ctx.empty(n, k, p, q, dtype=x.dtype, device=x.device)
    learner.conv2d_forward(x.data_ptr(), weight.data_ptr(), bias.data_ptr(), out.data_ptr(),
                           n, c, h, w, k, r, s, p, q, stride, padding, dilation, groups, *extra)
    return out
