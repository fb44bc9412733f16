"""`hubkit::attention`: fused scaled dot-product attention as a torch op.

Backends: `reference` (torch, materialises the (Tq, Tk) matrix; the default on
CPU) and `triton` (FlashAttention-2-style kernels in `hubkit.kernels.attention`;
the default on CUDA, and runnable on CPU under TRITON_INTERPRET=1 when asked for).
The forward op returns the output and the per-row log-sum-exp; the backward op
uses both, as the FlashAttention backward does.

The triton backend takes float32, float16 and bfloat16 and any head dim D up to
128 (a D that is not 16, 32, 64 or 128 is zero-padded to the next one, which
leaves q k^T and the output unchanged). Outside that it raises a ValueError
naming q, on CUDA too: it never swaps in the reference behind the caller's back.

Shapes: q (B, H, Tq, D), k and v (B, H, Tk, D) -> (B, H, Tq, D).
"""

from __future__ import annotations

import math

import torch

from hubkit import _checks
from hubkit._backend import OpBackends
from hubkit._op import Op
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


def _padded(t: torch.Tensor, d: int) -> torch.Tensor:
    """(..., D) -> (..., d), zeros on the right; q k^T and p v keep their values."""
    return torch.nn.functional.pad(t, (0, d - t.shape[-1])) if d != t.shape[-1] else t


def _kernel_d(d: int) -> int:
    return next(n for n in TRITON_HEAD_DIMS if n >= d)


def _forward_triton(q, k, v, causal: bool, scale: float):
    from hubkit.kernels.attention import attention_forward

    d = q.shape[-1]
    out, lse = attention_forward(*(_padded(t, _kernel_d(d)) for t in (q, k, v)), causal, scale)
    return out[..., :d], lse


def _backward_triton(do, q, k, v, causal: bool, scale: float, out, lse):
    from hubkit.kernels.attention import attention_backward

    d = q.shape[-1]
    padded = (_padded(t, _kernel_d(d)) for t in (do, q, k, v, out))
    return tuple(g[..., :d] for g in attention_backward(*padded, lse, causal, scale))


def _backward_reference(do, q, k, v, causal: bool, scale: float, out, lse):
    return reference.attention_backward_reference(do, q, k, v, out, lse, causal, scale)


def _check_limits(backend: str, q, k, v, causal, scale) -> None:
    if backend == "triton" and q.shape[-1] > TRITON_HEAD_DIMS[-1]:
        raise ValueError(f"q: head dim D={q.shape[-1]} is not supported by the triton backend "
                         f"(D <= {TRITON_HEAD_DIMS[-1]}); use backend='reference'")


def _fake(q, k, v, causal, scale):
    out = torch.empty_like(q, memory_format=torch.contiguous_format)
    return out, q.new_empty(q.shape[:3], dtype=_lse_dtype(q.dtype))


ATTENTION = Op(
    name="attention", args="Tensor q, Tensor k, Tensor v, bool causal, float scale",
    outputs=("out", "lse"), grad_outputs=("out",), save_outputs=True,
    backends=SPEC, dtypes=DTYPES,
    forward={"reference": reference.attention_forward_reference, "triton": _forward_triton},
    backward={"reference": _backward_reference, "triton": _backward_triton},
    fake=_fake, differentiable=("q", "k", "v"), check=_check_limits,
)


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


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = False,
              scale: float | None = None, backend: str | None = None) -> torch.Tensor:
    """softmax(q k^T * scale) v, fused: the (Tq, Tk) matrix is never stored by the triton backend.

    Args:
        q: (B, H, Tq, D) queries.
        k: (B, H, Tk, D) keys.
        v: (B, H, Tk, D) values, same dtype and device as q.
        causal: query i attends to keys j <= i (top-left aligned, as torch's is_causal).
        scale: logit scale; None means 1/sqrt(D).
        backend: "reference" or "triton"; None picks by device (CPU: reference,
            CUDA: triton, which raises for float64 or D > 128: pass "reference").

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
    return ATTENTION(q, k, v, causal, float(scale), device=device, backend=backend)[0]
