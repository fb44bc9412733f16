"""`hubkit::conv2d`: 2D convolution as a torch op with reference, cpp and cuda backends.

One `hubkit._op.Op` declaration registers `hubkit::conv2d` and
`hubkit::conv2d_backward` (custom ops with fake kernels and autograd); the
public `conv2d` checks every argument, then calls it.

Backends:
    reference  torch tensor ops doing the im2col + matmul of `hubkit.cnn.reference`
    cpp        csrc/conv2d/: im2col + packed, register-blocked GEMM (OpenMP), or for 3x3
               stride-1 convolutions Winograd F(4x4, 3x3) (`hubkit.cnn.winograd`)
    cuda       csrc/conv2d/*.cu: tiled implicit GEMM, float32 accumulation; float16 and
               bfloat16 (and float32 with TF32 allowed) on tensor cores, forward, grad_w and
               stride-1 grad_x (see `cuda_kernel_for`)

Algorithms (`algorithm=`, cpp backend only): "auto" picks per shape (`cpp_algorithm`);
"im2col", "winograd2" (F(2x2, 3x3)) and "winograd4" (F(4x4, 3x3)) force one, for
teaching and benchmarks. The reference and cuda backends have one algorithm each and
take only "auto": anything else raises ValueError naming `algorithm`.

Shapes: x (N, C, H, W), weight (K, C/groups, R, S), bias (K,) -> (N, K, P, Q).
"""

from __future__ import annotations

import torch

from hubkit import _checks, _ext
from hubkit._backend import OpBackends
from hubkit._op import Op
from hubkit.cnn import winograd
from hubkit.cnn.reference import out_size

SPEC = OpBackends("conv2d", cpu=("cpp", "reference"), cuda=("cuda", "reference"))
# Dtypes each backend computes in.
DTYPES = {
    "reference": _checks.FLOATS,
    "cpp": (torch.float32, torch.float64),
    "cuda": (torch.float32, torch.float16, torch.bfloat16),
}
ALGORITHMS = ("auto", "im2col", *winograd.TILES)


def _dims(x: torch.Tensor, w: torch.Tensor, stride, padding, dilation, groups) -> list[int]:
    """The 16 integers the compiled kernels take (see csrc/conv2d/conv2d.h)."""
    n, c, h, wd = x.shape
    k, _, r, s = w.shape
    p, q = out_size(h, r, stride[0], padding[0], dilation[0]), out_size(
        wd, s, stride[1], padding[1], dilation[1])
    return [n, c, h, wd, k, r, s, p, q, *stride, *padding, *dilation, groups]


def _im2col(x: torch.Tensor, r: int, s: int, stride, padding, dilation) -> torch.Tensor:
    """(N, C, H, W) -> (N, C*R*S, P*Q), as `reference.im2col` but with torch ops."""
    n, c, h, wd = x.shape
    p = out_size(h, r, stride[0], padding[0], dilation[0])
    q = out_size(wd, s, stride[1], padding[1], dilation[1])
    xp = torch.nn.functional.pad(x, (padding[1], padding[1], padding[0], padding[0]))
    rows = []
    for ri in range(r):
        for si in range(s):
            h0, w0 = ri * dilation[0], si * dilation[1]
            rows.append(xp[:, :, h0:h0 + stride[0] * (p - 1) + 1:stride[0],
                           w0:w0 + stride[1] * (q - 1) + 1:stride[1]])
    cols = torch.stack(rows, dim=2)  # (N, C, R*S, P, Q)
    return cols.reshape(n, c * r * s, p * q)


def _col2im(cols: torch.Tensor, x_shape, r: int, s: int, stride, padding, dilation):
    """Adjoint of `_im2col`: add each column entry back where it was read."""
    n, c, h, wd = x_shape
    p = out_size(h, r, stride[0], padding[0], dilation[0])
    q = out_size(wd, s, stride[1], padding[1], dilation[1])
    cols = cols.reshape(n, c, r * s, p, q)
    xp = cols.new_zeros(n, c, h + 2 * padding[0], wd + 2 * padding[1])
    for ri in range(r):
        for si in range(s):
            h0, w0 = ri * dilation[0], si * dilation[1]
            xp[:, :, h0:h0 + stride[0] * (p - 1) + 1:stride[0],
               w0:w0 + stride[1] * (q - 1) + 1:stride[1]] += cols[:, :, ri * s + si]
    return xp[:, :, padding[0]:padding[0] + h, padding[1]:padding[1] + wd]


def conv2d_im2col_torch(x, w, b, stride, padding, dilation, groups):
    """`reference.conv2d_im2col` in torch ops (stride/padding/dilation as [h, w] lists).

    Runs on any device and on fake tensors; the reference backend and the checker use it.
    """
    n, k, r, s = x.shape[0], w.shape[0], w.shape[2], w.shape[3]
    cols = _im2col(x, r, s, stride, padding, dilation)  # (N, C*R*S, P*Q)
    cols = cols.reshape(n, groups, -1, cols.shape[-1])  # (N, G, Cg*R*S, P*Q)
    y = torch.matmul(w.reshape(groups, k // groups, -1), cols)  # (N, G, Kg, P*Q)
    d = _dims(x, w, stride, padding, dilation, groups)
    y = y.reshape(n, k, d[7], d[8])
    return y + b.reshape(1, k, 1, 1) if b is not None else y


def _backward_reference(gy, x, w, b, stride, padding, dilation, groups):
    n, k, r, s = x.shape[0], w.shape[0], w.shape[2], w.shape[3]
    gyg = gy.reshape(n, groups, k // groups, -1)  # (N, G, Kg, P*Q)
    cols = _im2col(x, r, s, stride, padding, dilation).reshape(n, groups, -1, gyg.shape[-1])
    wm = w.reshape(groups, k // groups, -1)  # (G, Kg, Cg*R*S)
    gw = torch.matmul(gyg, cols.transpose(-1, -2)).sum(0).reshape(w.shape)
    gcols = torch.matmul(wm.transpose(-1, -2), gyg).reshape(n, -1, gyg.shape[-1])
    gx = _col2im(gcols, x.shape, r, s, stride, padding, dilation)
    return gx.contiguous(), gw, gy.sum((0, 2, 3))


def _forward_compiled(module, x, w, b, stride, padding, dilation, groups, *extra):
    d = _dims(x, w, stride, padding, dilation, groups)
    y = x.new_empty(d[0], d[4], d[7], d[8])
    module.conv2d_forward(x.data_ptr(), w.data_ptr(), 0 if b is None else b.data_ptr(),
                          y.data_ptr(), d, _ext.dtype_code(x.dtype), *extra)
    return y


def _backward_compiled(module, gy, x, w, b, stride, padding, dilation, groups, *extra):
    gx, gw, gb = torch.empty_like(x), torch.empty_like(w), w.new_empty(w.shape[0])
    module.conv2d_backward(gy.data_ptr(), x.data_ptr(), w.data_ptr(), gx.data_ptr(),
                           gw.data_ptr(), gb.data_ptr(),
                           _dims(x, w, stride, padding, dilation, groups),
                           _ext.dtype_code(x.dtype), *extra)
    return gx, gw, gb


def cpp_algorithm(x, weight, stride, dilation, groups, algorithm: str = "auto") -> str:
    """The cpp backend's path for this shape: "im2col", "winograd2" or "winograd4".

    "auto" takes F(4x4, 3x3) where Winograd applies (3x3, stride 1, dilation 1,
    groups 1) and pays (`winograd.pays_off`), else im2col; a forced algorithm is
    returned as is (`_check_algorithm` has already said whether it applies).
    """
    if algorithm != "auto":
        return algorithm
    if winograd.why_not(weight, stride, dilation, groups) is None and winograd.pays_off(x, weight):
        return "winograd4"
    return "im2col"


def _forward_cpp(x, w, b, stride, padding, dilation, groups, algorithm):
    path = cpp_algorithm(x, w, stride, dilation, groups, algorithm)
    if path in winograd.TILES:
        return winograd.conv2d_winograd(x, w, b, padding, winograd.TILES[path])
    return _forward_compiled(_ext.cpp_module(), x, w, b, stride, padding, dilation, groups)


def _backward_cpp(gy, x, w, b, stride, padding, dilation, groups, algorithm):
    """grad_x and grad_w by the forward's algorithm (see `hubkit.cnn.winograd`)."""
    path = cpp_algorithm(x, w, stride, dilation, groups, algorithm)
    if path not in winograd.TILES:
        return _backward_compiled(_ext.cpp_module(), gy, x, w, b, stride, padding, dilation,
                                  groups)
    m = winograd.TILES[path]
    return (winograd.grad_input_winograd(gy, w, padding, m),
            winograd.grad_weight_winograd(x, gy, padding, m), gy.sum((0, 2, 3)))


def _one_algorithm(kernel):
    """A backend kernel with a single algorithm: drops the trailing `algorithm` ("auto")."""
    return lambda *args: kernel(*args[:-1])


def cuda_kernel_for(dtype: torch.dtype, capability: tuple[int, int], allow_tf32: bool,
                    numels: tuple[int, ...]) -> str:
    """Which CUDA kernel computes a conv2d: "tensor_cores", "tf32" or "fp32".

    float16/bfloat16 run on tensor cores (csrc/conv2d/conv2d_tc.cu) from sm_80 on;
    float32 does too, as TF32, only when the caller allows TF32
    (`torch.backends.cuda.matmul.allow_tf32`); otherwise, on older GPUs, and for a
    tensor of 2^31 - 2^20 or more elements (`numels`: x, weight, y), it is conv2d.cu's
    exact float32-accumulating kernel.

    Example:
        >>> cuda_kernel_for(torch.bfloat16, (9, 0), False, (10, 10, 10))
        'tensor_cores'
        >>> cuda_kernel_for(torch.float32, (9, 0), False, (10, 10, 10))
        'fp32'
    """
    if capability[0] < 8 or max(numels) >= 2**31 - 2**20:  # int32 indices, with headroom
        return "fp32"
    if dtype in (torch.float16, torch.bfloat16):
        return "tensor_cores"
    return "tf32" if allow_tf32 else "fp32"


def _cuda_kernel(x, w, y_numel: int) -> str:
    return cuda_kernel_for(x.dtype, torch.cuda.get_device_capability(x.device),
                           torch.backends.cuda.matmul.allow_tf32, (x.numel(), w.numel(), y_numel))


def _forward_tc(x, w, b, d, launch):
    """y (N, K, P, Q) on tensor cores; the kernel reads x and w channels-last."""
    y = x.new_empty(d[0], d[4], d[7], d[8])
    xh = x.permute(0, 2, 3, 1).contiguous()  # (N, H, W, C)
    wh = w.permute(0, 2, 3, 1).contiguous()  # (K, R, S, C/groups)
    _ext.cuda_module().conv2d_forward_tc(xh.data_ptr(), wh.data_ptr(),
                                         0 if b is None else b.data_ptr(), y.data_ptr(), d,
                                         _ext.dtype_code(x.dtype), *launch)
    return y


def _grad_input_tc(gy, x, w, padding, dilation, groups, launch):
    """grad_x of a stride-1 conv2d as a stride-1 conv2d of grad_y on tensor cores.

    Each group's filters transposed (K <-> C) and flipped (r -> R-1-r), and padding
    dil*(R-1) - pad (negative: the kernel's bounds test crops).
    """
    k, cg, r, s = w.shape
    wt = w.reshape(groups, k // groups, cg, r, s).transpose(1, 2).flip(3, 4)  # (G, Cg, Kg, R, S)
    wt = wt.reshape(groups * cg, k // groups, r, s)
    n, c, h, wd = x.shape
    pad = [dilation[0] * (r - 1) - padding[0], dilation[1] * (s - 1) - padding[1]]
    d = [n, k, gy.shape[2], gy.shape[3], c, r, s, h, wd, 1, 1, *pad, *dilation, groups]
    return _forward_tc(gy, wt, None, d, launch)


def _forward_cuda(x, w, b, stride, padding, dilation, groups):
    launch = _ext.cuda_launch(x.device)
    d = _dims(x, w, stride, padding, dilation, groups)
    if _cuda_kernel(x, w, d[0] * d[4] * d[7] * d[8]) != "fp32":
        return _forward_tc(x, w, b, d, launch)
    return _forward_compiled(_ext.cuda_module(), x, w, b, stride, padding, dilation, groups,
                             *launch)


def _grad_weight_tc(gy, x, w, d, launch):
    """grad_w (K, C/groups, R, S) on tensor cores, summed in a float32 (K, R, S, C/groups)."""
    k, cg, r, s = w.shape
    ws = torch.zeros(k, r, s, cg, dtype=torch.float32, device=w.device)
    gyh, xh = (t.permute(0, 2, 3, 1).contiguous() for t in (gy, x))  # channels innermost
    _ext.cuda_module().conv2d_grad_weight_tc(gyh.data_ptr(), xh.data_ptr(), ws.data_ptr(), d,
                                             _ext.dtype_code(x.dtype), *launch)
    return ws.permute(0, 3, 1, 2).to(w.dtype)


def _backward_cuda(gy, x, w, b, stride, padding, dilation, groups):
    """grad_w, and grad_x for stride 1, on tensor cores (see `cuda_kernel_for`); grad_b and
    strided grad_x on conv2d.cu's kernels."""
    module, launch = _ext.cuda_module(), _ext.cuda_launch(x.device)
    if _cuda_kernel(gy, w, x.numel()) == "fp32":
        return _backward_compiled(module, gy, x, w, b, stride, padding, dilation, groups, *launch)
    d = _dims(x, w, stride, padding, dilation, groups)
    gw = _grad_weight_tc(gy, x, w, d, launch)
    unit = stride == [1, 1]
    gx = _grad_input_tc(gy, x, w, padding, dilation, groups, launch) if unit else \
        torch.empty_like(x)
    gb = w.new_empty(w.shape[0])
    module.conv2d_backward(gy.data_ptr(), x.data_ptr(), w.data_ptr(), 0 if unit else gx.data_ptr(),
                           0, gb.data_ptr(), d, _ext.dtype_code(x.dtype), *launch)
    return gx, gw, gb


def _fake(x, weight, bias, stride, padding, dilation, groups, algorithm):
    d = _dims(x, weight, stride, padding, dilation, groups)
    return x.new_empty(d[0], d[4], d[7], d[8])


def _check_algorithm(backend, x, weight, bias, stride, padding, dilation, groups, algorithm):
    """ValueError naming `algorithm` unless `backend` can run it on these shapes."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm: expected one of {ALGORITHMS}, got {algorithm!r}")
    if algorithm == "auto":
        return
    if backend != "cpp":
        raise ValueError(f"algorithm: {algorithm!r} picks a path of the cpp backend; the "
                         f"{backend!r} backend has one algorithm, so pass algorithm='auto' "
                         f"(or backend='cpp')")
    reason = winograd.why_not(weight, stride, dilation, groups)
    if algorithm in winograd.TILES and reason is not None:
        raise ValueError(f"algorithm: {algorithm!r} {reason}; use algorithm='auto' or "
                         f"'im2col'")


CONV2D = Op(
    name="conv2d",
    args="Tensor x, Tensor weight, Tensor? bias, int[] stride, int[] padding, int[] dilation, "
         "int groups, str algorithm",
    outputs=("y",), backends=SPEC, dtypes=DTYPES,
    forward={"reference": _one_algorithm(conv2d_im2col_torch), "cpp": _forward_cpp,
             "cuda": _one_algorithm(_forward_cuda)},
    backward={"reference": _one_algorithm(_backward_reference), "cpp": _backward_cpp,
              "cuda": _one_algorithm(_backward_cuda)},
    fake=_fake, differentiable=("x", "weight", "bias"), check=_check_algorithm,
)


def _pair_arg(name: str, v, *, minimum: int) -> list[int]:
    """int or 2-sequence of ints -> [h, w], each >= minimum; else ValueError naming `name`."""
    vals = [v, v] if isinstance(v, int) else list(v) if isinstance(v, (tuple, list)) else None
    if vals is None or len(vals) != 2 or not all(isinstance(i, int) and not isinstance(i, bool)
                                                 for i in vals):
        raise ValueError(f"{name}: expected an int or a pair of ints, got {v!r}")
    if min(vals) < minimum:
        raise ValueError(f"{name}: every entry must be >= {minimum}, got {v!r}")
    return vals


def _check_shapes(x, weight, bias, groups: int) -> None:
    _checks.tensor("x", x, ndim=4, dtypes=_checks.FLOATS, what="(N, C, H, W)")
    _checks.tensor("weight", weight, ndim=4, dtypes=_checks.FLOATS, what="(K, C/groups, R, S)")
    if bias is not None:
        _checks.tensor("bias", bias, ndim=1, what="(K,)")
    if not isinstance(groups, int) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"groups: expected a positive int, got {groups!r}")
    n, c = x.shape[:2]
    k, cg = weight.shape[:2]
    if n == 0:
        raise ValueError(f"x: empty batch (shape {tuple(x.shape)}); pass at least one image")
    if c == 0 or k == 0 or min(weight.shape[2:]) == 0:
        raise ValueError(f"weight: channels and kernel size must be non-zero, got "
                         f"{tuple(weight.shape)} for x of {tuple(x.shape)}")
    if c % groups or k % groups:
        raise ValueError(f"groups: {groups} must divide both input channels ({c}) and "
                         f"output channels ({k})")
    if cg * groups != c:
        raise ValueError(f"weight: expected {c // groups} input channels per group "
                         f"(x has C={c}, groups={groups}), got weight of {tuple(weight.shape)}")
    if bias is not None and bias.shape[0] != k:
        raise ValueError(f"bias: expected shape ({k},) to match weight's K, "
                         f"got {tuple(bias.shape)}")


def conv2d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None, stride=1,
           padding=0, dilation=1, groups: int = 1, backend: str | None = None,
           algorithm: str = "auto") -> torch.Tensor:
    """2D convolution (cross-correlation, like torch.nn.functional.conv2d).

    Args:
        x: (N, C, H, W) floating tensor, any layout (channels_last and views welcome).
        weight: (K, C/groups, R, S) filters, same dtype and device as x.
        bias: (K,) or None.
        stride, padding, dilation: int or (h, w) pair; padding is zeros on both sides.
        groups: split channels into independent groups (C and K both divisible).
        backend: "reference", "cpp" or "cuda"; None picks by device.
        algorithm: "auto", or for the cpp backend "im2col", "winograd2" or "winograd4"
            (3x3, stride 1, dilation 1, groups 1 only) to force a path.

    Returns:
        (N, K, P, Q) contiguous tensor, P = (H + 2*pad - dil*(R-1) - 1) // stride + 1.

    Example:
        >>> import torch, hubkit
        >>> x = torch.randn(2, 4, 9, 9, dtype=torch.float64)
        >>> w = torch.randn(6, 2, 3, 3, dtype=torch.float64)
        >>> y = hubkit.ops.conv2d(x, w, stride=2, padding=1, groups=2)
        >>> torch.allclose(y, torch.nn.functional.conv2d(x, w, None, 2, 1, 1, 2))
        True
    """
    _check_shapes(x, weight, bias, groups)
    st = _pair_arg("stride", stride, minimum=1)
    pad = _pair_arg("padding", padding, minimum=0)
    dil = _pair_arg("dilation", dilation, minimum=1)
    _checks.same_dtype(x=x, weight=weight, bias=bias)
    device = _checks.same_device(x=x, weight=weight, bias=bias)
    for axis, (size, kern) in enumerate(zip(x.shape[2:], weight.shape[2:], strict=True)):
        if size + 2 * pad[axis] < dil[axis] * (kern - 1) + 1:
            raise ValueError(f"weight: kernel extent {dil[axis] * (kern - 1) + 1} is larger "
                             f"than the padded input ({size} + 2*{pad[axis]}) on axis {axis + 2}")
    return CONV2D(x, weight, bias, st, pad, dil, groups, algorithm, device=device,
                  backend=backend)
