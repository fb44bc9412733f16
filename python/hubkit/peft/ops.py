"""`hubkit::lora_linear`: y = x W^T + b + scale * (x A^T) B^T as a torch op.

Backends: `reference` (torch matmuls, the default on CPU) and `triton` (one
fused kernel, `hubkit.kernels.lora`; the default on CUDA, and runnable on CPU
under TRITON_INTERPRET=1 when asked for by name). The base weight W is frozen:
the op gives gradients for x, A, B and the bias only, and refuses a weight that
requires grad rather than silently dropping its gradient.

Shapes: x (..., K), weight (N, K), bias (N,) or None, lora_a (r, K),
lora_b (N, r) -> (..., N).
"""

from __future__ import annotations

import math

import torch

from hubkit import _checks
from hubkit._backend import OpBackends, resolve
from hubkit.peft import reference

SPEC = OpBackends("lora_linear", cpu=("reference",), cuda=("triton", "reference"),
                  interpreted=("triton",))
# Dtypes each backend computes in (the reference takes anything floating).
DTYPES = {
    "reference": _checks.FLOATS,
    "triton": (torch.float32, torch.float16, torch.bfloat16),
}


def _forward_reference(x, weight, bias, lora_a, lora_b, scale):
    return reference.lora_linear_reference(x, weight, bias, lora_a, lora_b, scale)


def _backward_reference(grad, x, weight, lora_a, lora_b, scale):
    gx, ga, gb, _ = reference.lora_linear_backward_reference(grad, x, weight, lora_a, lora_b,
                                                             scale)
    return gx, ga, gb


def _forward_triton(x, weight, bias, lora_a, lora_b, scale):
    from hubkit.kernels.lora import lora_forward

    return lora_forward(x, weight, bias, lora_a, lora_b, scale)


def _backward_triton(grad, x, weight, lora_a, lora_b, scale):
    from hubkit.kernels.lora import lora_backward

    return lora_backward(grad, x, weight, lora_a, lora_b, scale)


_FORWARD = {"reference": _forward_reference, "triton": _forward_triton}
_BACKWARD = {"reference": _backward_reference, "triton": _backward_triton}


def _rows(t: torch.Tensor) -> torch.Tensor:
    return t.reshape(-1, t.shape[-1]).contiguous()  # (..., C) -> (M, C)


@torch.library.custom_op("hubkit::lora_linear", mutates_args=())
def _lora_linear_op(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                    lora_a: torch.Tensor, lora_b: torch.Tensor, scale: float,
                    backend: str) -> torch.Tensor:
    _checks.tensor("x", x, dtypes=DTYPES[backend])
    b = bias.contiguous() if bias is not None else None
    # subtle: W stays as given; a transposed view (GPT-2's Conv1D) is read by strides,
    # not copied on every call.
    y = _FORWARD[backend](_rows(x), weight, b, lora_a.contiguous(), lora_b.contiguous(),
                          scale)  # (M, N)
    return y.reshape(*x.shape[:-1], weight.shape[0]).contiguous()


@_lora_linear_op.register_fake
def _(x, weight, bias, lora_a, lora_b, scale, backend):
    return x.new_empty(*x.shape[:-1], weight.shape[0])


@torch.library.custom_op("hubkit::lora_linear_backward", mutates_args=())
def _lora_linear_backward_op(grad: torch.Tensor, x: torch.Tensor, weight: torch.Tensor,
                             lora_a: torch.Tensor, lora_b: torch.Tensor, scale: float,
                             backend: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    _checks.tensor("x", x, dtypes=DTYPES[backend])
    gx, ga, gb = _BACKWARD[backend](_rows(grad), _rows(x), weight, lora_a.contiguous(),
                                    lora_b.contiguous(), scale)
    return gx.reshape(x.shape).contiguous(), ga.contiguous(), gb.contiguous()


@_lora_linear_backward_op.register_fake
def _(grad, x, weight, lora_a, lora_b, scale, backend):
    return (torch.empty_like(x, memory_format=torch.contiguous_format),
            torch.empty_like(lora_a, memory_format=torch.contiguous_format),
            torch.empty_like(lora_b, memory_format=torch.contiguous_format))


def _setup_context(ctx, inputs, output) -> None:
    x, weight, bias, lora_a, lora_b, scale, backend = inputs
    ctx.save_for_backward(x, weight, lora_a, lora_b)
    ctx.scale, ctx.backend, ctx.has_bias = scale, backend, bias is not None


def _backward(ctx, grad: torch.Tensor):
    x, weight, lora_a, lora_b = ctx.saved_tensors
    gx, ga, gb = torch.ops.hubkit.lora_linear_backward(grad, x, weight, lora_a, lora_b,
                                                       ctx.scale, ctx.backend)
    gbias = grad.reshape(-1, grad.shape[-1]).sum(0) if ctx.has_bias else None
    return gx, None, gbias, ga, gb, None, None  # W is frozen: no gradient


_lora_linear_op.register_autograd(_backward, setup_context=_setup_context)


def _check_shapes(x, weight, bias, lora_a, lora_b) -> None:
    _checks.tensor("x", x, ndim=range(1, 9), dtypes=_checks.FLOATS, what="(..., K)")
    _checks.tensor("weight", weight, ndim=2, what="(N, K)")
    _checks.tensor("lora_a", lora_a, ndim=2, what="(r, K)")
    _checks.tensor("lora_b", lora_b, ndim=2, what="(N, r)")
    (n, k), r = weight.shape, lora_a.shape[0]
    if k != x.shape[-1]:
        raise ValueError(f"weight: expected (N, K) with K={x.shape[-1]} (x's last dim), "
                         f"got {tuple(weight.shape)}")
    if lora_a.shape[1] != k:
        raise ValueError(f"lora_a: expected (r, K) with K={k}, got {tuple(lora_a.shape)}")
    if tuple(lora_b.shape) != (n, r):
        raise ValueError(f"lora_b: expected (N, r) = ({n}, {r}) to fit weight {tuple(weight.shape)}"
                         f" and lora_a {tuple(lora_a.shape)}, got {tuple(lora_b.shape)}")
    reference.check_rank(r, k, n)
    if bias is not None:
        _checks.tensor("bias", bias, ndim=1, what="(N,)")
        if bias.shape[0] != n:
            raise ValueError(f"bias: expected shape ({n},), got {tuple(bias.shape)}")


def lora_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                lora_a: torch.Tensor, lora_b: torch.Tensor, scale: float, *,
                backend: str | None = None) -> torch.Tensor:
    """x W^T + b + scale * (x A^T) B^T with a frozen W, fused on the triton backend.

    Args:
        x: (..., K) floating tensor, any layout.
        weight: (N, K) frozen base weight (must not require grad).
        bias: (N,) or None.
        lora_a: (r, K) with 1 <= r <= min(K, N).
        lora_b: (N, r).
        scale: alpha / r, a finite number.
        backend: "reference" or "triton"; None picks by device.

    Returns:
        (..., N) tensor, contiguous. Gradients flow to x, bias, lora_a, lora_b.

    Example:
        >>> import torch, hubkit
        >>> x, w = torch.randn(2, 4), torch.randn(3, 4)
        >>> a, b = torch.randn(2, 4), torch.randn(3, 2)
        >>> y = hubkit.ops.lora_linear(x, w, None, a, b, 0.5)
        >>> torch.allclose(y, x @ (w + 0.5 * b @ a).T, atol=1e-5)
        True
    """
    _check_shapes(x, weight, bias, lora_a, lora_b)
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale):
        raise ValueError(f"scale: expected a finite number (alpha / r), got {scale!r}")
    if weight.requires_grad:
        raise ValueError("weight: requires_grad=True, but lora_linear keeps the base weight "
                         "frozen and gives it no gradient; pass weight.detach() or call "
                         "weight.requires_grad_(False)")
    _checks.same_dtype(x=x, weight=weight, bias=bias, lora_a=lora_a, lora_b=lora_b)
    device = _checks.same_device(x=x, weight=weight, bias=bias, lora_a=lora_a, lora_b=lora_b)
    name = resolve(SPEC, device, backend)
    _checks.tensor("x", x, dtypes=DTYPES[name])
    return torch.ops.hubkit.lora_linear(x, weight, bias, lora_a, lora_b, float(scale), name)
