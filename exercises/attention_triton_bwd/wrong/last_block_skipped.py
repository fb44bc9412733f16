"""Known wrong: launches floor(Tq / BLOCK_M) dq programs: the tail queries get no dq.

Exercise attention_triton_bwd. The forward kernel (given, from
attention_triton_fwd) returns out and lse = log(sum_j exp(s_ij)). The backward
recomputes the probabilities block by block as P = exp(S - lse), never storing
the (Tq, Tk) matrix (FlashAttention-2, https://arxiv.org/abs/2307.08691):

    dV = P^T dO        dP = dO V^T        dS = P * (dP - delta)
    dQ = scale dS K    dK = scale dS^T Q  delta_i = rowsum(dO_i * O_i)

Three kernels: a preprocess for delta, one program per key block for dK and dV
(looping over query blocks) and one program per query block for dQ (looping
over key blocks), so no two programs write the same gradient rows.

Without a GPU the checker runs this under TRITON_INTERPRET=1 on tiny float32
shapes. Shapes: q, dO (B, H, Tq, D), k, v (B, H, Tk, D); D a power of two >= 16.
"""

from __future__ import annotations

import math

import torch
import triton
import triton.language as tl

BLOCK_M = 16  # queries per block
BLOCK_N = 16  # keys per block


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
        m_new = tl.maximum(m_i, tl.max(s, 1))  # finite: key 0 is valid for every row
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


@triton.jit
def _preprocess_kernel(o_ptr, do_ptr, delta_ptr, tq, D: tl.constexpr, BLOCK_M: tl.constexpr):
    rows = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
    bh = tl.program_id(1)
    offs = bh * tq * D + rows[:, None] * D + tl.arange(0, D)[None, :]
    o = tl.load(o_ptr + offs, mask=rows[:, None] < tq, other=0.0).to(tl.float32)
    do = tl.load(do_ptr + offs, mask=rows[:, None] < tq, other=0.0).to(tl.float32)
    delta = tl.sum(o * do, 1)  # rowsum(dO * O) = rowsum(P * dP)
    tl.store(delta_ptr + bh * tq + rows, delta, mask=rows < tq)


@triton.jit
def _probs(q, k, lse, rows, cols, tq, tk, scale, CAUSAL: tl.constexpr):
    """P = exp(q k^T * scale - lse) for one (BLOCK_M, BLOCK_N) tile, 0 where masked."""
    s = tl.dot(q, tl.trans(k)) * scale
    valid = (rows[:, None] < tq) & (cols[None, :] < tk)
    if CAUSAL:
        valid = valid & (cols[None, :] <= rows[:, None])
    p = tl.where(valid, tl.exp(s - lse[:, None]), 0.0)
    return p


@triton.jit
def _dkdv_kernel(q_ptr, k_ptr, v_ptr, do_ptr, lse_ptr, delta_ptr, dk_ptr, dv_ptr, tq, tk,
                 scale, CAUSAL: tl.constexpr, D: tl.constexpr, BLOCK_M: tl.constexpr,
                 BLOCK_N: tl.constexpr):
    start_n = tl.program_id(0) * BLOCK_N
    bh = tl.program_id(1)
    cols = start_n + tl.arange(0, BLOCK_N)
    dims = tl.arange(0, D)
    kv_offs = bh * tk * D + cols[:, None] * D + dims[None, :]
    k = tl.load(k_ptr + kv_offs, mask=cols[:, None] < tk, other=0.0)
    v = tl.load(v_ptr + kv_offs, mask=cols[:, None] < tk, other=0.0)
    dk = tl.zeros([BLOCK_N, D], tl.float32)
    dv = tl.zeros([BLOCK_N, D], tl.float32)
    begin = 0
    if CAUSAL:
        begin = (start_n // BLOCK_M) * BLOCK_M  # queries before start_n never see these keys
    for start_m in range(begin, tq, BLOCK_M):
        rows = start_m + tl.arange(0, BLOCK_M)
        q_offs = bh * tq * D + rows[:, None] * D + dims[None, :]
        q = tl.load(q_ptr + q_offs, mask=rows[:, None] < tq, other=0.0)
        do = tl.load(do_ptr + q_offs, mask=rows[:, None] < tq, other=0.0)
        lse = tl.load(lse_ptr + bh * tq + rows, mask=rows < tq, other=0.0)
        delta = tl.load(delta_ptr + bh * tq + rows, mask=rows < tq, other=0.0)
        p = _probs(q, k, lse, rows, cols, tq, tk, scale, CAUSAL)  # (BLOCK_M, BLOCK_N)
        dv += tl.dot(tl.trans(p.to(do.dtype)), do)
        dp = tl.dot(do, tl.trans(v))
        ds = p * (dp - delta[:, None])
        dk += tl.dot(tl.trans(ds.to(q.dtype)), q)
    dk = dk * scale
    tl.store(dk_ptr + kv_offs, dk.to(dk_ptr.dtype.element_ty), mask=cols[:, None] < tk)
    tl.store(dv_ptr + kv_offs, dv.to(dv_ptr.dtype.element_ty), mask=cols[:, None] < tk)


@triton.jit
def _dq_kernel(q_ptr, k_ptr, v_ptr, do_ptr, lse_ptr, delta_ptr, dq_ptr, tq, tk, scale,
               CAUSAL: tl.constexpr, D: tl.constexpr, BLOCK_M: tl.constexpr,
               BLOCK_N: tl.constexpr):
    start_m = tl.program_id(0) * BLOCK_M
    bh = tl.program_id(1)
    rows = start_m + tl.arange(0, BLOCK_M)
    dims = tl.arange(0, D)
    q_offs = bh * tq * D + rows[:, None] * D + dims[None, :]
    q = tl.load(q_ptr + q_offs, mask=rows[:, None] < tq, other=0.0)
    do = tl.load(do_ptr + q_offs, mask=rows[:, None] < tq, other=0.0)
    lse = tl.load(lse_ptr + bh * tq + rows, mask=rows < tq, other=0.0)
    delta = tl.load(delta_ptr + bh * tq + rows, mask=rows < tq, other=0.0)
    dq = tl.zeros([BLOCK_M, D], tl.float32)
    end = tk
    if CAUSAL:
        end = tl.minimum(tk, start_m + BLOCK_M)
    for start_n in range(0, end, BLOCK_N):
        cols = start_n + tl.arange(0, BLOCK_N)
        kv_offs = bh * tk * D + cols[:, None] * D + dims[None, :]
        k = tl.load(k_ptr + kv_offs, mask=cols[:, None] < tk, other=0.0)
        v = tl.load(v_ptr + kv_offs, mask=cols[:, None] < tk, other=0.0)
        p = _probs(q, k, lse, rows, cols, tq, tk, scale, CAUSAL)
        dp = tl.dot(do, tl.trans(v))
        ds = p * (dp - delta[:, None])
        dq += tl.dot(ds.to(k.dtype), k)
    dq = dq * scale
    tl.store(dq_ptr + q_offs, dq.to(dq_ptr.dtype.element_ty), mask=rows[:, None] < tq)


def attention_backward(do: torch.Tensor, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                       out: torch.Tensor, lse: torch.Tensor, causal: bool = False):
    """Gradients of attention_forward's output with respect to q, k and v.

    Args:
        do: (B, H, Tq, D) upstream gradient; q (B, H, Tq, D); k, v (B, H, Tk, D);
            out, lse: what attention_forward returned for these inputs.
        causal: as in the forward.

    Returns:
        dq (B, H, Tq, D), dk and dv (B, H, Tk, D), in q's dtype.
    """
    do, q, k, v, out = (t.contiguous() for t in (do, q, k, v, out))
    b, h, tq, d = q.shape
    tk = k.shape[2]
    scale = 1.0 / math.sqrt(d)
    delta = torch.empty(b, h, tq, dtype=torch.float32, device=q.device)
    dq, dk, dv = torch.empty_like(q), torch.empty_like(k), torch.empty_like(v)
    _preprocess_kernel[(triton.cdiv(tq, BLOCK_M), b * h)](out, do, delta, tq, D=d,
                                                          BLOCK_M=BLOCK_M)
    common = dict(CAUSAL=causal, D=d, BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N)
    _dkdv_kernel[(triton.cdiv(tk, BLOCK_N), b * h)](q, k, v, do, lse, delta, dk, dv, tq, tk,
                                                    scale, **common)
    _dq_kernel[(tq // BLOCK_M, b * h)](q, k, v, do, lse, delta, dq, tq, tk, scale,
                                                  **common)
    return dq, dk, dv
