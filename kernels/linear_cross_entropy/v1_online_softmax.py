"""Cross-entropy of a chunk of logits in one Triton kernel, gradient written in place.

One program per row z (V,) of the chunk:

1. Walk the vocabulary in BLOCK_V blocks keeping the running max m and the
   running sum s = sum_j exp(z_j - m) (online softmax: when a block raises the
   max to m', s is rescaled by exp(m - m') first), and the plain sum of z. Then
   lse = m + log(s), and the row's loss is lse - (1 - eps) z_t - eps mean(z)
   (0 where t == ignore_index; eps is the label smoothing, usually 0).
2. With a gradient scale w for the row, walk the blocks again and overwrite z
   by w * (exp(z - lse) - (1 - eps) onehot(t) - eps / V), the loss's gradient
   with respect to z.

The row is read twice and written once; nothing as wide as the vocabulary is
allocated. `hubkit.lm.cross_entropy.linear_cross_entropy_chunked` computes each
chunk's logits with a torch matmul, calls this, and folds the gradient into
grad_h and grad_W (Liger-Kernel's design, https://arxiv.org/abs/2410.10989).

Shapes: logits (R, V) with unit column stride, targets (R,) int64, grad_scale (R,)
-> loss (R,) float32. Math is float32 whatever the logits' dtype.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from hubkit.kernels.indexing import offsets


@triton.jit
def _row_lse_and_sum(z_row, V, BLOCK_V: tl.constexpr):
    """(log(sum_j exp(z_j)), sum_j z_j) of one row: an online softmax over BLOCK_V blocks."""
    m = tl.full((), float("-inf"), tl.float32)  # running max
    s = tl.zeros((), tl.float32)  # running sum of exp(z - m)
    total = tl.zeros((), tl.float32)  # sum of z, for label smoothing's mean
    for v0 in range(0, V, BLOCK_V):
        cols = offsets(v0, BLOCK_V)
        z = tl.load(z_row + cols, mask=cols < V, other=float("-inf")).to(tl.float32)
        m_new = tl.maximum(m, tl.max(z, 0))
        s = s * tl.exp(m - m_new) + tl.sum(tl.exp(z - m_new), 0)
        m = m_new
        total += tl.sum(tl.where(cols < V, z, 0.0), 0)
    return m + tl.log(s), total


@triton.jit
def _cross_entropy_rows_kernel(z_ptr, stride_z, t_ptr, w_ptr, loss_ptr, V, ignore_index, eps,
                               WRITE_GRAD: tl.constexpr, BLOCK_V: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    z_row = z_ptr + row * stride_z
    t = tl.load(t_ptr + row)
    valid = t != ignore_index
    lse, total = _row_lse_and_sum(z_row, V, BLOCK_V)
    z_t = tl.load(z_row + tl.where(valid, t, 0)).to(tl.float32)
    picked = (1.0 - eps) * z_t + eps * (total / V)
    tl.store(loss_ptr + row, tl.where(valid, lse - picked, 0.0))
    if WRITE_GRAD:
        w = tl.load(w_ptr + row).to(tl.float32)  # 0 for an ignored row
        for v0 in range(0, V, BLOCK_V):
            cols = offsets(v0, BLOCK_V)
            z = tl.load(z_row + cols, mask=cols < V, other=0.0).to(tl.float32)
            dz = tl.exp(z - lse) - eps / V - tl.where(cols == t, 1.0 - eps, 0.0)
            tl.store(z_row + cols, (dz * w).to(z_ptr.dtype.element_ty), mask=cols < V)


def gpu_config(v: int) -> dict:
    """Block width and warps on a GPU for vocabulary size v (no dot: any dtype, any arch).

    16 values per thread: no spill at sm_80/sm_90 (benchmarks/gpu_static.py, ~78 registers);
    8192-wide blocks over 16 warps got 64 registers and spilled 4-8 B at sm_80.
    """
    return {"BLOCK_V": min(4096, triton.next_power_of_2(v)), "num_warps": 8}


def _launch(logits: torch.Tensor) -> dict:
    """Block width and warps: wide blocks on a GPU, modest ones for the CPU interpreter."""
    v = logits.shape[1]
    if logits.is_cuda:
        return gpu_config(v)
    return {"BLOCK_V": min(1024, triton.next_power_of_2(v))}


def cross_entropy_rows(logits: torch.Tensor, targets: torch.Tensor, ignore_index: int,
                       label_smoothing: float, grad_scale: torch.Tensor | None) -> torch.Tensor:
    """Losses of a chunk of rows; with grad_scale, logits become grad_scale * dloss/dlogits.

    Args:
        logits: (R, V) float32/float16/bfloat16 with unit column stride; overwritten in
            place by the gradient when grad_scale is given.
        targets: (R,) int64, each in [0, V) or ignore_index.
        ignore_index: rows with this target get loss 0.
        label_smoothing: eps in [0, 1].
        grad_scale: (R,) each row's weight (0 for ignored rows), or None.

    Returns:
        (R,) float32 losses.
    """
    r, v = logits.shape
    loss = torch.empty(r, dtype=torch.float32, device=logits.device)
    if r == 0:
        return loss
    assert logits.stride(1) == 1, "logits: the kernel reads rows with unit column stride"
    write = grad_scale is not None
    scale = grad_scale.to(torch.float32).contiguous() if write else loss  # unread if not write
    _cross_entropy_rows_kernel[(r,)](logits, logits.stride(0), targets.contiguous(), scale,
                                     loss, v, ignore_index, float(label_smoothing),
                                     WRITE_GRAD=write, **_launch(logits))
    return loss
