"""Exact top-k similarity in Triton: each program scores one block of keys and keeps its best k.

Program (i, j) takes queries i*BLOCK_Q.. and keys j*BLOCK_N..: it accumulates the
(BLOCK_Q, BLOCK_N) inner products over D with `tl.dot` (and, for cosine, the
rows' squared norms beside them), then pulls the block's k best out of those
registers one at a time (max, lowest index at the max, mask it out) and writes
only those: (Q, blocks, k) candidates instead of a (Q, N) matrix. A stable sort
over each query's candidates, blocks in key order, then picks the final k, so
equal scores keep the lower key index, as in every hubkit backend.

Shapes: queries (Q, D), keys (N, D) contiguous -> scores (Q, k), indices (Q, k) int64.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from hubkit.kernels.indexing import block_offsets, offsets

NORM_EPS = 1e-12  # as torch.nn.functional.normalize


@triton.jit
def _block_topk_kernel(q_ptr, k_ptr, out_s_ptr, out_i_ptr, Q, N, D, BLOCKS,
                       K: tl.constexpr, COSINE: tl.constexpr, BLOCK_Q: tl.constexpr,
                       BLOCK_N: tl.constexpr, BLOCK_D: tl.constexpr):
    rq = block_offsets(tl.program_id(0), BLOCK_Q)   # (BLOCK_Q,) query rows
    rn = block_offsets(tl.program_id(1), BLOCK_N)   # (BLOCK_N,) key rows
    acc = tl.zeros((BLOCK_Q, BLOCK_N), dtype=tl.float32)
    q_sq = tl.zeros((BLOCK_Q,), dtype=tl.float32)
    k_sq = tl.zeros((BLOCK_N,), dtype=tl.float32)
    for d0 in range(0, D, BLOCK_D):
        rd = offsets(d0, BLOCK_D)
        q = tl.load(q_ptr + rq[:, None] * D + rd[None, :],
                    mask=(rq[:, None] < Q) & (rd[None, :] < D), other=0.0)
        kt = tl.load(k_ptr + rn[None, :] * D + rd[:, None],
                     mask=(rn[None, :] < N) & (rd[:, None] < D), other=0.0)  # (BLOCK_D, BLOCK_N)
        acc += tl.dot(q, kt, input_precision="ieee")
        if COSINE:
            qf, kf = q.to(tl.float32), kt.to(tl.float32)
            q_sq += tl.sum(qf * qf, axis=1)
            k_sq += tl.sum(kf * kf, axis=0)
    if COSINE:
        acc = acc / tl.maximum(tl.sqrt(q_sq), 1e-12)[:, None]
        acc = acc / tl.maximum(tl.sqrt(k_sq), 1e-12)[None, :]
    acc = tl.where(rn[None, :] < N, acc, float("-inf"))
    out = rq * BLOCKS * K + tl.program_id(1).to(tl.int64) * K  # (BLOCK_Q,) row starts
    for i in tl.static_range(K):
        best = tl.max(acc, axis=1)                                        # (BLOCK_Q,)
        at_best = acc == best[:, None]
        # subtle: the lowest key index among equal maxima, the order every backend shares.
        idx = tl.min(tl.where(at_best, rn[None, :], N + BLOCK_N), axis=1)
        found = best > float("-inf")
        tl.store(out_s_ptr + out + i, best, mask=rq < Q)
        tl.store(out_i_ptr + out + i, tl.where(found, idx, -1), mask=rq < Q)
        acc = tl.where(rn[None, :] == idx[:, None], float("-inf"), acc)


def topk_similarity_triton(queries: torch.Tensor, keys: torch.Tensor, k: int, metric: str,
                           block_q: int = 16, block_n: int = 64, block_d: int = 32):
    """hubkit.ops.topk_similarity's triton backend; inputs contiguous, checked by the op."""
    (q, d), n = queries.shape, keys.shape[0]
    blocks = triton.cdiv(n, block_n)
    cand_s = torch.empty(q, blocks, k, dtype=torch.float32, device=queries.device)
    cand_i = torch.empty(q, blocks, k, dtype=torch.int64, device=queries.device)
    grid = (triton.cdiv(q, block_q), blocks)
    _block_topk_kernel[grid](queries, keys, cand_s, cand_i, q, n, d, blocks, K=k,
                             COSINE=metric == "cosine", BLOCK_Q=block_q, BLOCK_N=block_n,
                             BLOCK_D=block_d)
    # Merge: candidates are in key order among equal scores, so a stable sort keeps ties.
    cand_s, cand_i = cand_s.reshape(q, -1), cand_i.reshape(q, -1)
    order = torch.sort(cand_s, dim=1, descending=True, stable=True).indices[:, :k]
    return cand_s.gather(1, order).to(queries.dtype), cand_i.gather(1, order)
