"""`hubkit::bias_gelu`: fused bias + GELU as a torch op with four backends.

The shape every hubkit op takes:

1. the kernels, one forward and one backward per backend;
2. one `hubkit._op.Op` declaration, which registers `hubkit::bias_gelu` and
   `hubkit::bias_gelu_backward` (custom ops with fake kernels and autograd);
3. a public function that checks its arguments, then calls the declaration,
   which resolves the backend and checks the dtype before anything runs.

Shapes: x (..., C), bias (C,) -> (..., C).
"""

from __future__ import annotations

import torch

from hubkit import _checks, _ext
from hubkit._backend import OpBackends
from hubkit._op import Op
from hubkit.activations import reference

SPEC = OpBackends("bias_gelu", cpu=("cpp", "reference"), cuda=("cuda", "triton", "reference"),
                  interpreted=("triton",))
# Dtypes each backend computes in (the reference takes anything floating).
DTYPES = {
    "reference": _checks.FLOATS,
    "cpp": (torch.float32, torch.float64),
    "cuda": (torch.float32, torch.float16, torch.bfloat16),
    "triton": (torch.float32, torch.float16, torch.bfloat16),
}


def _forward_cpp(x: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    y = torch.empty_like(x)
    _ext.cpp_module().bias_gelu_forward(x.data_ptr(), b.data_ptr(), y.data_ptr(),
                                        x.numel() // max(b.numel(), 1), b.numel(),
                                        _ext.dtype_code(x.dtype))
    return y


def _backward_cpp(g: torch.Tensor, x: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    gx = torch.empty_like(x)
    _ext.cpp_module().bias_gelu_backward(g.data_ptr(), x.data_ptr(), b.data_ptr(),
                                         gx.data_ptr(), x.numel() // max(b.numel(), 1),
                                         b.numel(), _ext.dtype_code(x.dtype))
    return gx


def _forward_cuda(x: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    y = torch.empty_like(x)
    _ext.cuda_module().bias_gelu_forward(x.data_ptr(), b.data_ptr(), y.data_ptr(),
                                         x.numel() // max(b.numel(), 1), b.numel(),
                                         _ext.dtype_code(x.dtype), *_ext.cuda_launch(x.device))
    return y


def _backward_cuda(g: torch.Tensor, x: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    gx = torch.empty_like(x)
    _ext.cuda_module().bias_gelu_backward(g.data_ptr(), x.data_ptr(), b.data_ptr(),
                                          gx.data_ptr(), x.numel() // max(b.numel(), 1),
                                          b.numel(), _ext.dtype_code(x.dtype),
                                          *_ext.cuda_launch(x.device))
    return gx


def _forward_triton(x: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    from hubkit.kernels.bias_gelu import bias_gelu_forward

    return bias_gelu_forward(x, b)


def _backward_triton(g: torch.Tensor, x: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    from hubkit.kernels.bias_gelu import bias_gelu_backward

    return bias_gelu_backward(g, x, b)


def _with_bias_grad(backward):
    """A kernel's grad_x -> (grad_x, grad_bias): the bias gradient sums grad_x over rows."""
    def run(g: torch.Tensor, x: torch.Tensor, b: torch.Tensor):
        gx = backward(g, x, b)
        return gx, gx.reshape(-1, b.numel()).sum(0) if b.numel() else torch.zeros_like(b)
    return run


BIAS_GELU = Op(
    name="bias_gelu", args="Tensor x, Tensor bias", outputs=("y",), backends=SPEC,
    dtypes=DTYPES,
    forward={"reference": reference.bias_gelu_reference, "cpp": _forward_cpp,
             "cuda": _forward_cuda, "triton": _forward_triton},
    backward={name: _with_bias_grad(fn) for name, fn in (
        ("reference", reference.bias_gelu_backward_reference), ("cpp", _backward_cpp),
        ("cuda", _backward_cuda), ("triton", _backward_triton))},
    fake=lambda x, bias: torch.empty_like(x, memory_format=torch.contiguous_format),
    differentiable=("x", "bias"),
)


def bias_gelu(x: torch.Tensor, bias: torch.Tensor, *, backend: str | None = None) -> torch.Tensor:
    """gelu(x + bias), fused: one read of x, one write of the result.

    Args:
        x: (..., C) floating tensor, any layout.
        bias: (C,) tensor of x's dtype and device.
        backend: "reference", "cpp", "cuda" or "triton"; None picks by device.

    Returns:
        (..., C) tensor, contiguous.

    Example:
        >>> import torch, hubkit
        >>> x = torch.randn(4, 8, dtype=torch.float64)
        >>> b = torch.randn(8, dtype=torch.float64)
        >>> ref = hubkit.ops.bias_gelu(x, b, backend="reference")
        >>> torch.allclose(hubkit.ops.bias_gelu(x, b), ref)
        True
    """
    _checks.tensor("x", x, ndim=range(1, 9), dtypes=_checks.FLOATS, what="(..., C)")
    _checks.tensor("bias", bias, ndim=1, what="(C,)")
    if bias.shape[0] != x.shape[-1]:
        raise ValueError(f"bias: expected shape ({x.shape[-1]},) to match x's last dim, "
                         f"got {tuple(bias.shape)}")
    _checks.same_dtype(x=x, bias=bias)
    device = _checks.same_device(x=x, bias=bias)
    return BIAS_GELU(x, bias, device=device, backend=backend)
