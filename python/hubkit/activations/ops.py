"""`hubkit::bias_gelu`: fused bias + GELU as a torch op with four backends.

This module is the template every hubkit op follows:

1. a public function that checks its arguments and resolves the backend
   (`hubkit._backend.resolve`) before anything runs;
2. `torch.library.custom_op` for the forward and for the backward, each taking
   the backend name as a string, with `register_fake` so torch.compile and
   meta tensors know the output shapes;
3. `register_autograd` wiring the backward op in.

Shapes: x (..., C), bias (C,) -> (..., C).
"""

from __future__ import annotations

import torch

from hubkit import _checks, _ext
from hubkit._backend import OpBackends, resolve
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
                                         _ext.dtype_code(x.dtype), _ext.stream_address(x.device))
    return y


def _backward_cuda(g: torch.Tensor, x: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    gx = torch.empty_like(x)
    _ext.cuda_module().bias_gelu_backward(g.data_ptr(), x.data_ptr(), b.data_ptr(),
                                          gx.data_ptr(), x.numel() // max(b.numel(), 1),
                                          b.numel(), _ext.dtype_code(x.dtype),
                                          _ext.stream_address(x.device))
    return gx


def _forward_triton(x: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    from hubkit.kernels.bias_gelu import bias_gelu_forward

    return bias_gelu_forward(x, b)


def _backward_triton(g: torch.Tensor, x: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    from hubkit.kernels.bias_gelu import bias_gelu_backward

    return bias_gelu_backward(g, x, b)


_FORWARD = {"reference": reference.bias_gelu_reference, "cpp": _forward_cpp,
            "cuda": _forward_cuda, "triton": _forward_triton}
_BACKWARD = {"reference": reference.bias_gelu_backward_reference, "cpp": _backward_cpp,
             "cuda": _backward_cuda, "triton": _backward_triton}


def _check_dtype(backend: str, x: torch.Tensor) -> None:
    _checks.tensor("x", x, dtypes=DTYPES[backend])


@torch.library.custom_op("hubkit::bias_gelu", mutates_args=())
def _bias_gelu_op(x: torch.Tensor, bias: torch.Tensor, backend: str) -> torch.Tensor:
    _check_dtype(backend, x)
    y = _FORWARD[backend](x.contiguous(), bias.contiguous())
    return y.contiguous()


@_bias_gelu_op.register_fake
def _(x: torch.Tensor, bias: torch.Tensor, backend: str) -> torch.Tensor:
    return torch.empty_like(x, memory_format=torch.contiguous_format)


@torch.library.custom_op("hubkit::bias_gelu_backward", mutates_args=())
def _bias_gelu_backward_op(grad: torch.Tensor, x: torch.Tensor, bias: torch.Tensor,
                           backend: str) -> torch.Tensor:
    _check_dtype(backend, x)
    return _BACKWARD[backend](grad.contiguous(), x.contiguous(), bias.contiguous()).contiguous()


@_bias_gelu_backward_op.register_fake
def _(grad: torch.Tensor, x: torch.Tensor, bias: torch.Tensor, backend: str) -> torch.Tensor:
    return torch.empty_like(x, memory_format=torch.contiguous_format)


def _setup_context(ctx, inputs, output) -> None:
    x, bias, backend = inputs
    ctx.save_for_backward(x, bias)
    ctx.backend = backend


def _backward(ctx, grad: torch.Tensor):
    x, bias = ctx.saved_tensors
    grad_x = torch.ops.hubkit.bias_gelu_backward(grad, x, bias, ctx.backend)
    grad_bias = grad_x.reshape(-1, bias.numel()).sum(0) if bias.numel() else torch.zeros_like(bias)
    return grad_x, grad_bias, None


_bias_gelu_op.register_autograd(_backward, setup_context=_setup_context)


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
    name = resolve(SPEC, device, backend)
    _check_dtype(name, x)
    return torch.ops.hubkit.bias_gelu(x, bias, name)
