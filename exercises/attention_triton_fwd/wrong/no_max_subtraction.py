"""Known wrong: exp of the raw scores, no running max: overflows on large logits.

Exercise attention_triton_fwd. One program handles BLOCK_M queries of one
(batch, head) and streams over the keys BLOCK_N at a time, keeping a running
max, a running softmax denominator and an unnormalised output (the "online
softmax"), so the (Tq, Tk) score matrix never exists in memory. It also
returns lse = log(sum exp(scores)) per query, which the backward pass needs.

Without a GPU the checker runs this under TRITON_INTERPRET=1 on tiny float32
shapes. Shapes: q (B, H, Tq, D), k and v (B, H, Tk, D); D a power of two >= 16.
"""

from __future__ import annotations

import math

import torch
import triton
import triton.language as tl

BLOCK_M = 16  # queries per program
BLOCK_N = 16  # keys per inner step


@triton.jit
def _attention_fwd_kernel(q_ptr, k_ptr, v_ptr, o_ptr, lse_ptr, tq, tk, scale,
                          CAUSAL: tl.constexpr, D: tl.constexpr,
                          BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    start_m = tl.program_id(0) * BLOCK_M
    bh = tl.program_id(1)  # which (batch, head): tensors are contiguous (B*H, T, D)
    rows = start_m + tl.arange(0, BLOCK_M)
    dims = tl.arange(0, D)
    q = tl.load(q_ptr + bh * tq * D + rows[:, None] * D + dims[None, :],
                mask=rows[:, None] < tq, other=0.0)
    m_i = tl.full([BLOCK_M], float("-inf"), tl.float32)  # running row max
    l_i = tl.zeros([BLOCK_M], tl.float32)  # running sum of exp(s - m_i)
    acc = tl.zeros([BLOCK_M, D], tl.float32)  # running sum of exp(s - m_i) * v
    end = tk
    if CAUSAL:
        end = tl.minimum(tk, start_m + BLOCK_M)  # later keys are masked for every row here
    for start_n in range(0, end, BLOCK_N):
        cols = start_n + tl.arange(0, BLOCK_N)
        kv_offs = bh * tk * D + cols[:, None] * D + dims[None, :]
        k = tl.load(k_ptr + kv_offs, mask=cols[:, None] < tk, other=0.0)
        v = tl.load(v_ptr + kv_offs, mask=cols[:, None] < tk, other=0.0)
        s = tl.dot(q, tl.trans(k)) * scale  # (BLOCK_M, BLOCK_N)
        valid = cols[None, :] < tk  # keys past the end are padding, not zeros
        if CAUSAL:
            valid = valid & (cols[None, :] <= rows[:, None])
        s = tl.where(valid, s, float("-inf"))
        m_new = tl.zeros([BLOCK_M], tl.float32)  # finite: key 0 is valid for every row
        alpha = tl.exp(m_i - m_new)  # rescales what was summed under the old max
        p = tl.exp(s - m_new[:, None])
        l_i = l_i * alpha + tl.sum(p, 1)
        acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v)
        m_i = m_new
    out = acc / l_i[:, None]
    lse = m_i + tl.log(l_i)
    tl.store(o_ptr + bh * tq * D + rows[:, None] * D + dims[None, :],
             out.to(o_ptr.dtype.element_ty), mask=rows[:, None] < tq)
    tl.store(lse_ptr + bh * tq + rows, lse, mask=rows < tq)


def attention_forward(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                      causal: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(q k^T / sqrt(D)) v, fused.

    Args:
        q: (B, H, Tq, D); k, v: (B, H, Tk, D); any strides (copied to contiguous).
        causal: query i sees keys j <= i.

    Returns:
        out (B, H, Tq, D) in q's dtype and lse (B, H, Tq) float32.
    """
    q, k, v = q.contiguous(), k.contiguous(), v.contiguous()
    b, h, tq, d = q.shape
    out = torch.empty_like(q)
    lse = torch.empty(b, h, tq, dtype=torch.float32, device=q.device)
    grid = (triton.cdiv(tq, BLOCK_M), b * h)
    _attention_fwd_kernel[grid](q, k, v, out, lse, tq, k.shape[2], 1.0 / math.sqrt(d),
                                CAUSAL=causal, D=d, BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N)
    return out, lse
