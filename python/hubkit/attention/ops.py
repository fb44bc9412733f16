"""`hubkit::attention`: fused scaled dot-product attention as a torch op.

Backends: `reference` (torch, materialises the (Tq, Tk) matrix; the default on
CPU) and `triton` (FlashAttention-2-style kernels in `hubkit.kernels.attention`;
the default on CUDA, and runnable on CPU under TRITON_INTERPRET=1 when asked for).
The forward op returns the output and the per-row log-sum-exp; the backward op
uses both, as the FlashAttention backward does.

Shapes: q (B, H, Tq, D), k and v (B, H, Tk, D) -> (B, H, Tq, D).
"""

from __future__ import annotations

import math

import torch

from hubkit import _backend, _checks
from hubkit._backend import OpBackends, resolve
from hubkit.attention import reference

SPEC = OpBackends("attention", cpu=("reference",), cuda=("triton", "reference"),
                  interpreted=("triton",))
# Dtypes each backend computes in (bfloat16 is native in the Triton kernels, not via float16).
DTYPES = {
    "reference": _checks.FLOATS,
    "triton": (torch.float32, torch.float16, torch.bfloat16),
}
TRITON_HEAD_DIMS = (16, 32, 64, 128)  # the kernels' BLOCK_D is D itself: powers of two


def _lse_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.float64 if dtype == torch.float64 else torch.float32


def _forward_triton(q, k, v, causal: bool, scale: float):
    from hubkit.kernels.attention import attention_forward

    return attention_forward(q, k, v, causal, scale)


def _backward_triton(do, q, k, v, out, lse, causal: bool, scale: float):
    from hubkit.kernels.attention import attention_backward

    return attention_backward(do, q, k, v, out, lse, causal, scale)


_FORWARD = {"reference": reference.attention_forward_reference, "triton": _forward_triton}
_BACKWARD = {"reference": reference.attention_backward_reference, "triton": _backward_triton}


@torch.library.custom_op("hubkit::attention", mutates_args=())
def _attention_op(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool, scale: float,
                  backend: str) -> tuple[torch.Tensor, torch.Tensor]:
    _checks.tensor("q", q, dtypes=DTYPES[backend])
    out, lse = _FORWARD[backend](q.contiguous(), k.contiguous(), v.contiguous(), causal, scale)
    return out.contiguous(), lse.contiguous()


@_attention_op.register_fake
def _(q, k, v, causal, scale, backend):
    out = torch.empty_like(q, memory_format=torch.contiguous_format)
    return out, q.new_empty(q.shape[:3], dtype=_lse_dtype(q.dtype))


@torch.library.custom_op("hubkit::attention_backward", mutates_args=())
def _attention_backward_op(grad: torch.Tensor, q: torch.Tensor, k: torch.Tensor,
                           v: torch.Tensor, out: torch.Tensor, lse: torch.Tensor, causal: bool,
                           scale: float, backend: str
                           ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    _checks.tensor("q", q, dtypes=DTYPES[backend])
    c = [t.contiguous() for t in (grad, q, k, v, out, lse)]
    return tuple(g.contiguous() for g in _BACKWARD[backend](*c, causal, scale))


@_attention_backward_op.register_fake
def _(grad, q, k, v, out, lse, causal, scale, backend):
    return tuple(torch.empty_like(t, memory_format=torch.contiguous_format) for t in (q, k, v))


def _setup_context(ctx, inputs, output) -> None:
    q, k, v, causal, scale, backend = inputs
    out, lse = output
    ctx.save_for_backward(q, k, v, out, lse)
    ctx.mark_non_differentiable(lse)
    ctx.causal, ctx.scale, ctx.backend = causal, scale, backend


def _backward(ctx, grad_out: torch.Tensor, grad_lse: torch.Tensor | None):
    q, k, v, out, lse = ctx.saved_tensors
    dq, dk, dv = torch.ops.hubkit.attention_backward(grad_out, q, k, v, out, lse, ctx.causal,
                                                     ctx.scale, ctx.backend)
    return dq, dk, dv, None, None, None


_attention_op.register_autograd(_backward, setup_context=_setup_context)


def _check_shapes(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> None:
    for name, t in (("q", q), ("k", k), ("v", v)):
        _checks.tensor(name, t, ndim=4, dtypes=_checks.FLOATS, what="(B, H, T, D)")
        if t.shape[2] == 0 or t.shape[3] == 0:
            raise ValueError(f"{name}: T and D must be at least 1, got shape {tuple(t.shape)}")
    if k.shape[:2] != q.shape[:2] or v.shape[:2] != q.shape[:2]:
        bad = "k" if k.shape[:2] != q.shape[:2] else "v"
        raise ValueError(f"{bad}: batch and heads (B, H) must match q's {tuple(q.shape[:2])}, "
                         f"got {tuple((k if bad == 'k' else v).shape[:2])}")
    if k.shape[3] != q.shape[3]:
        raise ValueError(f"k: head dim D={k.shape[3]} must match q's D={q.shape[3]}")
    if v.shape[2:] != k.shape[2:]:
        raise ValueError(f"v: expected (B, H, Tk, D) = (..., {k.shape[2]}, {k.shape[3]}) like k, "
                         f"got shape {tuple(v.shape)}")


@_backend.constant_under_compile
def _pick_backend(device: torch.device, backend: str | None, d: int, dtype: torch.dtype) -> str:
    """resolve(), except that a D or dtype the kernels lack (D=24, float64) falls back to the
    reference unless triton was asked for by name (on the call or through use_backend)."""
    asked = backend if backend is not None else _backend._forced.get()
    name = resolve(SPEC, device, backend)
    if name == "triton" and asked != "triton" and (
            d not in TRITON_HEAD_DIMS or dtype not in DTYPES["triton"]):
        return "reference"
    if name == "triton" and d not in TRITON_HEAD_DIMS:
        raise ValueError(f"q: head dim D={d} is not supported by the triton backend "
                         f"(supported: {TRITON_HEAD_DIMS}); use backend='reference'")
    return name


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = False,
              scale: float | None = None, backend: str | None = None) -> torch.Tensor:
    """softmax(q k^T * scale) v, fused: the (Tq, Tk) matrix is never stored by the triton backend.

    Args:
        q: (B, H, Tq, D) queries.
        k: (B, H, Tk, D) keys.
        v: (B, H, Tk, D) values, same dtype and device as q.
        causal: query i attends to keys j <= i (top-left aligned, as torch's is_causal).
        scale: logit scale; None means 1/sqrt(D).
        backend: "reference" or "triton"; None picks by device (CPU: reference).

    Returns:
        (B, H, Tq, D) tensor, contiguous, q's dtype.

    Example:
        >>> import torch, hubkit
        >>> q = k = v = torch.randn(1, 2, 5, 8)
        >>> out = hubkit.ops.attention(q, k, v, causal=True)
        >>> ref = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        >>> torch.allclose(out, ref, atol=1e-5)
        True
    """
    _check_shapes(q, k, v)
    _checks.same_dtype(q=q, k=k, v=v)
    device = _checks.same_device(q=q, k=k, v=v)
    if not isinstance(causal, bool):
        raise ValueError(f"causal: expected a bool, got {causal!r}")
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1])
    elif isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale):
        raise ValueError(f"scale: expected a finite float or None, got {scale!r}")
    name = _pick_backend(device, backend, q.shape[-1], q.dtype)
    _checks.tensor("q", q, dtypes=DTYPES[name])
    return torch.ops.hubkit.attention(q, k, v, causal, float(scale), name)[0]
