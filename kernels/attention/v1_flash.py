"""FlashAttention-2-style fused attention in Triton: forward and backward.

Forward (one program per BLOCK_M queries of one (batch, head)): stream over key
blocks keeping a running row max m, running denominator l and an unnormalised
accumulator; rescale by exp(m_old - m_new) when the max grows ("online
softmax"), divide by l once at the end, and save lse = m + log(l) per row so the
backward can recompute the probabilities without storing the (Tq, Tk) matrix.

Backward (Dao 2023, https://arxiv.org/abs/2307.08691, algorithm 2):
  1. preprocess: delta_i = rowsum(dO_i * O_i);
  2. one program per key block accumulates dK, dV over query blocks;
  3. one program per query block accumulates dQ over key blocks.
Splitting 2 and 3 avoids atomics at the cost of recomputing P twice.

All math runs in float32 (exp2 with log2(e) folded into the scale); tl.dot
takes the native float16/bfloat16 inputs. Tails (T not a multiple of the
block) are masked on load and in the scores. Causal masking is top-left aligned
(query i sees keys j <= i), as torch's is_causal.

Shapes: q (B, H, Tq, D), k and v (B, H, Tk, D), contiguous; D in {16, 32, 64, 128}.
"""

from __future__ import annotations

import os

import torch
import triton
import triton.language as tl

LOG2E = 1.4426950408889634
HEAD_DIMS = (16, 32, 64, 128)


@triton.jit
def _fwd_kernel(q_ptr, k_ptr, v_ptr, o_ptr, lse_ptr, tq, tk, qk_scale,
                CAUSAL: tl.constexpr, D: tl.constexpr, BLOCK_M: tl.constexpr,
                BLOCK_N: tl.constexpr, PRECISION: tl.constexpr):
    start_m = tl.program_id(0) * BLOCK_M
    bh = tl.program_id(1).to(tl.int64)
    rows = start_m + tl.arange(0, BLOCK_M)
    cols0 = tl.arange(0, BLOCK_N)
    dims = tl.arange(0, D)
    q = tl.load(q_ptr + bh * tq * D + rows[:, None] * D + dims[None, :],
                mask=rows[:, None] < tq, other=0.0)
    k_base = k_ptr + bh * tk * D
    v_base = v_ptr + bh * tk * D
    m_i = tl.full([BLOCK_M], float("-inf"), tl.float32)
    l_i = tl.zeros([BLOCK_M], tl.float32)
    acc = tl.zeros([BLOCK_M, D], tl.float32)
    end = tl.minimum(tk, start_m + BLOCK_M) if CAUSAL else tk
    for start_n in range(0, end, BLOCK_N):
        cols = start_n + cols0
        k = tl.load(k_base + cols[:, None] * D + dims[None, :], mask=cols[:, None] < tk, other=0.0)
        s = tl.dot(q, tl.trans(k), input_precision=PRECISION) * qk_scale  # (BM, BN), log2 units
        valid = cols[None, :] < tk  # subtle: tail keys must score -inf, not 0
        if CAUSAL:
            valid = valid & (cols[None, :] <= rows[:, None])
        s = tl.where(valid, s, float("-inf"))
        # Every row sees key 0 in the first block, so m_new is finite from then on.
        m_new = tl.maximum(m_i, tl.max(s, 1))
        alpha = tl.exp2(m_i - m_new)
        p = tl.exp2(s - m_new[:, None])
        l_i = l_i * alpha + tl.sum(p, 1)
        v = tl.load(v_base + cols[:, None] * D + dims[None, :], mask=cols[:, None] < tk, other=0.0)
        acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v, input_precision=PRECISION)
        m_i = m_new
    acc = acc / l_i[:, None]
    tl.store(o_ptr + bh * tq * D + rows[:, None] * D + dims[None, :],
             acc.to(o_ptr.dtype.element_ty), mask=rows[:, None] < tq)
    tl.store(lse_ptr + bh * tq + rows, (m_i + tl.log2(l_i)) / 1.4426950408889634, mask=rows < tq)


@triton.jit
def _bwd_preprocess(o_ptr, do_ptr, delta_ptr, tq, D: tl.constexpr, BLOCK_M: tl.constexpr):
    rows = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
    bh = tl.program_id(1).to(tl.int64)
    offs = bh * tq * D + rows[:, None] * D + tl.arange(0, D)[None, :]
    o = tl.load(o_ptr + offs, mask=rows[:, None] < tq, other=0.0).to(tl.float32)
    do = tl.load(do_ptr + offs, mask=rows[:, None] < tq, other=0.0).to(tl.float32)
    tl.store(delta_ptr + bh * tq + rows, tl.sum(o * do, 1), mask=rows < tq)


@triton.jit
def _probs(q, k, lse2, rows, cols, tq, tk, qk_scale, CAUSAL: tl.constexpr,
           PRECISION: tl.constexpr):
    """P (BM, BN) = exp(S - lse) for a query block q (BM, D) and key block k (BN, D)."""
    s = tl.dot(q, tl.trans(k), input_precision=PRECISION) * qk_scale
    valid = (rows[:, None] < tq) & (cols[None, :] < tk)
    if CAUSAL:
        valid = valid & (cols[None, :] <= rows[:, None])
    return tl.where(valid, tl.exp2(s - lse2[:, None]), 0.0)


@triton.jit
def _bwd_dkdv_kernel(q_ptr, k_ptr, v_ptr, do_ptr, lse_ptr, delta_ptr, dk_ptr, dv_ptr,
                     tq, tk, qk_scale, sm_scale, CAUSAL: tl.constexpr, D: tl.constexpr,
                     BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, PRECISION: tl.constexpr):
    start_n = tl.program_id(0) * BLOCK_N
    bh = tl.program_id(1).to(tl.int64)
    cols = start_n + tl.arange(0, BLOCK_N)
    dims = tl.arange(0, D)
    kv_offs = bh * tk * D + cols[:, None] * D + dims[None, :]
    k = tl.load(k_ptr + kv_offs, mask=cols[:, None] < tk, other=0.0)
    v = tl.load(v_ptr + kv_offs, mask=cols[:, None] < tk, other=0.0)
    dk = tl.zeros([BLOCK_N, D], tl.float32)
    dv = tl.zeros([BLOCK_N, D], tl.float32)
    begin = (start_n // BLOCK_M) * BLOCK_M if CAUSAL else 0  # earlier queries never see these keys
    for start_m in range(begin, tq, BLOCK_M):
        rows = start_m + tl.arange(0, BLOCK_M)
        q_offs = bh * tq * D + rows[:, None] * D + dims[None, :]
        q = tl.load(q_ptr + q_offs, mask=rows[:, None] < tq, other=0.0)
        do = tl.load(do_ptr + q_offs, mask=rows[:, None] < tq, other=0.0)
        lse2 = tl.load(lse_ptr + bh * tq + rows, mask=rows < tq, other=0.0) * 1.4426950408889634
        delta = tl.load(delta_ptr + bh * tq + rows, mask=rows < tq, other=0.0)
        p = _probs(q, k, lse2, rows, cols, tq, tk, qk_scale, CAUSAL, PRECISION)  # (BM, BN)
        dv += tl.dot(tl.trans(p.to(do.dtype)), do, input_precision=PRECISION)
        dp = tl.dot(do, tl.trans(v), input_precision=PRECISION)  # (BM, BN)
        ds = p * (dp - delta[:, None])
        dk += tl.dot(tl.trans(ds.to(q.dtype)), q, input_precision=PRECISION)
    tl.store(dk_ptr + kv_offs, (dk * sm_scale).to(dk_ptr.dtype.element_ty),
             mask=cols[:, None] < tk)
    tl.store(dv_ptr + kv_offs, dv.to(dv_ptr.dtype.element_ty), mask=cols[:, None] < tk)


@triton.jit
def _bwd_dq_kernel(q_ptr, k_ptr, v_ptr, do_ptr, lse_ptr, delta_ptr, dq_ptr,
                   tq, tk, qk_scale, sm_scale, CAUSAL: tl.constexpr, D: tl.constexpr,
                   BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, PRECISION: tl.constexpr):
    start_m = tl.program_id(0) * BLOCK_M
    bh = tl.program_id(1).to(tl.int64)
    rows = start_m + tl.arange(0, BLOCK_M)
    dims = tl.arange(0, D)
    q_offs = bh * tq * D + rows[:, None] * D + dims[None, :]
    q = tl.load(q_ptr + q_offs, mask=rows[:, None] < tq, other=0.0)
    do = tl.load(do_ptr + q_offs, mask=rows[:, None] < tq, other=0.0)
    lse2 = tl.load(lse_ptr + bh * tq + rows, mask=rows < tq, other=0.0) * 1.4426950408889634
    delta = tl.load(delta_ptr + bh * tq + rows, mask=rows < tq, other=0.0)
    dq = tl.zeros([BLOCK_M, D], tl.float32)
    end = tl.minimum(tk, start_m + BLOCK_M) if CAUSAL else tk
    for start_n in range(0, end, BLOCK_N):
        cols = start_n + tl.arange(0, BLOCK_N)
        kv_offs = bh * tk * D + cols[:, None] * D + dims[None, :]
        k = tl.load(k_ptr + kv_offs, mask=cols[:, None] < tk, other=0.0)
        v = tl.load(v_ptr + kv_offs, mask=cols[:, None] < tk, other=0.0)
        p = _probs(q, k, lse2, rows, cols, tq, tk, qk_scale, CAUSAL, PRECISION)
        dp = tl.dot(do, tl.trans(v), input_precision=PRECISION)
        ds = p * (dp - delta[:, None])
        dq += tl.dot(ds.to(k.dtype), k, input_precision=PRECISION)
    tl.store(dq_ptr + q_offs, (dq * sm_scale).to(dq_ptr.dtype.element_ty),
             mask=rows[:, None] < tq)


def _config(d: int, dtype: torch.dtype) -> dict:
    """Block sizes and launch options; tiny blocks under the interpreter so tests stay fast."""
    if os.environ.get("TRITON_INTERPRET") == "1":
        return {"BLOCK_M": 16, "BLOCK_N": 16}
    if dtype == torch.float32:  # twice the bytes per tile: smaller tiles fit shared memory
        return {"BLOCK_M": 64, "BLOCK_N": 32, "num_warps": 4, "num_stages": 2}
    if d <= 64:
        return {"BLOCK_M": 128, "BLOCK_N": 64, "num_warps": 4, "num_stages": 3}
    return {"BLOCK_M": 128, "BLOCK_N": 32, "num_warps": 8, "num_stages": 2}


def _precision(dtype: torch.dtype) -> str:
    # subtle: float32 dots default to TF32 on GPUs (~1e-3 error); ask for exact float32.
    return "ieee" if dtype == torch.float32 else "tf32"


def attention_forward(q, k, v, causal: bool, scale: float):
    """out (B, H, Tq, D) and lse (B, H, Tq) float32, for contiguous q, k, v."""
    b, h, tq, d = q.shape
    out = torch.empty_like(q)
    lse = torch.empty(b, h, tq, device=q.device, dtype=torch.float32)
    cfg = _config(d, q.dtype)
    grid = (triton.cdiv(tq, cfg["BLOCK_M"]), b * h)
    _fwd_kernel[grid](q, k, v, out, lse, tq, k.shape[2], scale * LOG2E, CAUSAL=causal, D=d,
                      PRECISION=_precision(q.dtype), **cfg)
    return out, lse


def attention_backward(do, q, k, v, out, lse, causal: bool, scale: float):
    """dq, dk, dv for contiguous tensors, from the forward's out and lse."""
    b, h, tq, d = q.shape
    tk = k.shape[2]
    cfg = _config(d, q.dtype)
    bm, bn = cfg["BLOCK_M"], cfg["BLOCK_N"]
    delta = torch.empty_like(lse)
    _bwd_preprocess[(triton.cdiv(tq, bm), b * h)](out, do, delta, tq, D=d, BLOCK_M=bm)
    dq, dk, dv = torch.empty_like(q), torch.empty_like(k), torch.empty_like(v)
    # subtle: dK/dV programs sweep queries, so swap the block roles (M queries per step).
    kv_cfg = dict(cfg, BLOCK_M=bn, BLOCK_N=bm) if "num_warps" in cfg else cfg
    common = dict(CAUSAL=causal, D=d, PRECISION=_precision(q.dtype))
    _bwd_dkdv_kernel[(triton.cdiv(tk, kv_cfg["BLOCK_N"]), b * h)](
        q, k, v, do, lse, delta, dk, dv, tq, tk, scale * LOG2E, scale, **common, **kv_cfg)
    _bwd_dq_kernel[(triton.cdiv(tq, bm), b * h)](
        q, k, v, do, lse, delta, dq, tq, tk, scale * LOG2E, scale, **common, **cfg)
    return dq, dk, dv
