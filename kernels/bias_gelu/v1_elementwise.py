"""Fused bias + GELU in Triton: one program per BLOCK elements of the flat tensor.

Offsets are int64 (hubkit.kernels.indexing), so tensors past 2**31 elements
work. Each program loads its slice of x and the matching bias entries, computes in
float32 and stores once, so the op reads x and writes y exactly once (the
unfused `x + b` then `gelu` reads and writes the tensor twice).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from hubkit.kernels.indexing import block_offsets

BLOCK = 1024


@triton.jit
def _forward_kernel(x_ptr, b_ptr, y_ptr, n, cols, BLOCK: tl.constexpr):
    offs = block_offsets(tl.program_id(0), BLOCK)  # int64: n may pass 2**31
    mask = offs < n  # subtle: the last block runs past the end; masked lanes never touch memory
    z = tl.load(x_ptr + offs, mask=mask, other=0.0).to(tl.float32)
    z += tl.load(b_ptr + offs % cols, mask=mask, other=0.0).to(tl.float32)
    y = 0.5 * z * (1.0 + tl.math.erf(z * 0.7071067811865476))
    tl.store(y_ptr + offs, y.to(y_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _backward_kernel(g_ptr, x_ptr, b_ptr, gx_ptr, n, cols, BLOCK: tl.constexpr):
    offs = block_offsets(tl.program_id(0), BLOCK)  # int64: n may pass 2**31
    mask = offs < n
    z = tl.load(x_ptr + offs, mask=mask, other=0.0).to(tl.float32)
    z += tl.load(b_ptr + offs % cols, mask=mask, other=0.0).to(tl.float32)
    g = tl.load(g_ptr + offs, mask=mask, other=0.0).to(tl.float32)
    cdf = 0.5 * (1.0 + tl.math.erf(z * 0.7071067811865476))
    pdf = 0.3989422804014327 * tl.exp(-0.5 * z * z)
    tl.store(gx_ptr + offs, (g * (cdf + z * pdf)).to(gx_ptr.dtype.element_ty), mask=mask)


def bias_gelu_forward(x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """gelu(x + bias) for contiguous x (..., C) and bias (C,)."""
    y = torch.empty_like(x)
    n = x.numel()
    if n:
        _forward_kernel[(triton.cdiv(n, BLOCK),)](x, bias, y, n, bias.numel(), BLOCK=BLOCK)
    return y


def bias_gelu_backward(grad: torch.Tensor, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """grad * gelu'(x + bias) for contiguous tensors of one shape."""
    gx = torch.empty_like(x)
    n = x.numel()
    if n:
        _backward_kernel[(triton.cdiv(n, BLOCK),)](grad, x, bias, gx, n, bias.numel(), BLOCK=BLOCK)
    return gx
