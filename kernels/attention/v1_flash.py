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
takes the native float16/bfloat16 inputs, and float32 inputs as TF32 only where torch
allows TF32 (`hubkit.kernels.tuning.dot_precision`), else exact IEEE.

Launch configs are autotuned (`configs.py`: per GPU arch, input kind and head dim, keyed
on D, causal and the power-of-two bucket of the sequence length); the CPU interpreter
runs one small config.

Tails (T not a multiple of the block) are masked on load and in the scores. Causal
masking is top-left aligned (query i sees keys j <= i), as torch's is_causal.

Shapes: q (B, H, Tq, D), k and v (B, H, Tk, D), contiguous; D in {16, 32, 64, 128}.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from hubkit.kernels.attention import configs
from hubkit.kernels.attention.configs import head_dim_class
from hubkit.kernels.tuning import autotuned, bucket, device_class, dot_precision, kind

LOG2E = 1.4426950408889634
HEAD_DIMS = (16, 32, 64, 128)


@triton.jit
def _fwd_kernel(q_ptr, k_ptr, v_ptr, o_ptr, lse_ptr, tq, tk, qk_scale, T_BUCKET,
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
                     tq, tk, qk_scale, sm_scale, T_BUCKET, CAUSAL: tl.constexpr, D: tl.constexpr,
                     BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, PRECISION: tl.constexpr):
    """dK, dV for BLOCK_N keys, sweeping BLOCK_M queries per step, all in transposed form.

    subtle: P^T = exp(K Q^T - lse) is computed directly (k and v are the left operands,
    Q^T and dO^T are loaded transposed) instead of transposing P and dS in registers.
    For float32 IEEE dots (FMA, no tensor cores) the register transposes plus k and v held
    as right-hand operands needed > 255 registers per thread: ptxas then fell back to
    32 registers and a stack of 7-37 KB (gpu-static-2026-12-02); this form has no spill.
    """
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
        t_offs = bh * tq * D + rows[None, :] * D + dims[:, None]                   # (D, BM)
        qt = tl.load(q_ptr + t_offs, mask=rows[None, :] < tq, other=0.0)
        dot = tl.load(do_ptr + t_offs, mask=rows[None, :] < tq, other=0.0)
        lse2 = tl.load(lse_ptr + bh * tq + rows, mask=rows < tq, other=0.0) * 1.4426950408889634
        delta = tl.load(delta_ptr + bh * tq + rows, mask=rows < tq, other=0.0)
        st = tl.dot(k, qt, input_precision=PRECISION) * qk_scale                  # (BN, BM)
        valid = (cols[:, None] < tk) & (rows[None, :] < tq)
        if CAUSAL:
            valid = valid & (cols[:, None] <= rows[None, :])
        pt = tl.where(valid, tl.exp2(st - lse2[None, :]), 0.0)
        dv += tl.dot(pt.to(dot.dtype), tl.trans(dot), input_precision=PRECISION)
        dpt = tl.dot(v, dot, input_precision=PRECISION)                           # (BN, BM)
        dst = pt * (dpt - delta[None, :])
        dk += tl.dot(dst.to(qt.dtype), tl.trans(qt), input_precision=PRECISION)
    tl.store(dk_ptr + kv_offs, (dk * sm_scale).to(dk_ptr.dtype.element_ty),
             mask=cols[:, None] < tk)
    tl.store(dv_ptr + kv_offs, dv.to(dv_ptr.dtype.element_ty), mask=cols[:, None] < tk)


@triton.jit
def _bwd_dq_kernel(q_ptr, k_ptr, v_ptr, do_ptr, lse_ptr, delta_ptr, dq_ptr,
                   tq, tk, qk_scale, sm_scale, T_BUCKET, CAUSAL: tl.constexpr, D: tl.constexpr,
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


def _where(args: dict) -> tuple[str, str, int]:
    """(device class, kind, head-dim class) of a launch: which config list it tries."""
    q = args["q_ptr"]
    return device_class(q), kind(q.dtype, args["PRECISION"]), head_dim_class(args["D"])


# Autotuned launchers; the raw kernels above stay importable (gpu_static compiles them).
_KEY = ["D", "CAUSAL", "T_BUCKET", "PRECISION"]  # plus the tensors' dtypes, which autotune adds
_fwd = autotuned(_fwd_kernel, configs.FWD, _KEY, _where)
_bwd_dkdv = autotuned(_bwd_dkdv_kernel, configs.DKDV, _KEY, _where)
_bwd_dq = autotuned(_bwd_dq_kernel, configs.DQ, _KEY, _where)


def attention_forward(q, k, v, causal: bool, scale: float):
    """out (B, H, Tq, D) and lse (B, H, Tq) float32, for contiguous q, k, v."""
    b, h, tq, d = q.shape
    out = torch.empty_like(q)
    lse = torch.empty(b, h, tq, device=q.device, dtype=torch.float32)
    grid = lambda meta: (triton.cdiv(tq, meta["BLOCK_M"]), b * h)  # noqa: E731
    _fwd[grid](q, k, v, out, lse, tq, k.shape[2], scale * LOG2E, bucket(max(tq, k.shape[2])),
               CAUSAL=causal, D=d, PRECISION=dot_precision(q.dtype))
    return out, lse


def attention_backward(do, q, k, v, out, lse, causal: bool, scale: float):
    """dq, dk, dv for contiguous tensors, from the forward's out and lse."""
    b, h, tq, d = q.shape
    tk = k.shape[2]
    pre = configs.PREPROCESS_INTERPRETER if device_class(q) == "cpu" else configs.PREPROCESS
    delta = torch.empty_like(lse)
    _bwd_preprocess[(triton.cdiv(tq, pre["BLOCK_M"]), b * h)](out, do, delta, tq, D=d, **pre)
    dq, dk, dv = torch.empty_like(q), torch.empty_like(k), torch.empty_like(v)
    args = (tq, tk, scale * LOG2E, scale, bucket(max(tq, tk)))
    common = dict(CAUSAL=causal, D=d, PRECISION=dot_precision(q.dtype))
    _bwd_dkdv[lambda meta: (triton.cdiv(tk, meta["BLOCK_N"]), b * h)](
        q, k, v, do, lse, delta, dk, dv, *args, **common)
    _bwd_dq[lambda meta: (triton.cdiv(tq, meta["BLOCK_M"]), b * h)](
        q, k, v, do, lse, delta, dq, *args, **common)
    return dq, dk, dv
