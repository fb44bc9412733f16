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
from hubkit._backend import OpBackends
from hubkit._op import Op
from hubkit.peft import reference

SPEC = OpBackends("lora_linear", cpu=("reference",), cuda=("triton", "reference"),
                  interpreted=("triton",))
# Dtypes each backend computes in (the reference takes anything floating).
DTYPES = {
    "reference": _checks.FLOATS,
    "triton": (torch.float32, torch.float16, torch.bfloat16),
}


def _on_rows(forward):
    """A kernel on (M, K) rows -> one on x of (..., K); W stays as given (see below)."""
    def run(x, weight, bias, lora_a, lora_b, scale):
        y = forward(x.reshape(-1, x.shape[-1]), weight, bias, lora_a, lora_b, scale)  # (M, N)
        return y.reshape(*x.shape[:-1], weight.shape[0])
    return run


def _backward_on_rows(backward):
    """A backward kernel on rows -> (grad_x, grad_bias, grad_a, grad_b) for x of (..., K)."""
    def run(grad, x, weight, bias, lora_a, lora_b, scale):
        g = grad.reshape(-1, grad.shape[-1])  # (M, N)
        gx, ga, gb = backward(g, x.reshape(-1, x.shape[-1]), weight, lora_a, lora_b, scale)
        return gx.reshape(x.shape), g.sum(0) if bias is not None else None, ga, gb
    return run


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


LORA_LINEAR = Op(
    name="lora_linear",
    args="Tensor x, Tensor weight, Tensor? bias, Tensor lora_a, Tensor lora_b, float scale",
    outputs=("y",), backends=SPEC, dtypes=DTYPES,
    forward={"reference": _on_rows(reference.lora_linear_reference),
             "triton": _on_rows(_forward_triton)},
    backward={"reference": _backward_on_rows(_backward_reference),
              "triton": _backward_on_rows(_backward_triton)},
    fake=lambda x, weight, bias, lora_a, lora_b, scale: x.new_empty(*x.shape[:-1],
                                                                    weight.shape[0]),
    # W is frozen: it gets no gradient (the public function refuses one that requires grad).
    differentiable=("x", "bias", "lora_a", "lora_b"),
    # subtle: W stays as given; a transposed view (GPT-2's Conv1D) is read by strides,
    # not copied on every call.
    strided=("weight",),
)


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
    return LORA_LINEAR(x, weight, bias, lora_a, lora_b, float(scale), device=device,
                       backend=backend)
