"""One LSTM layer in Triton: one fused-cell launch per time step.

The input projection of every step, x_proj = x W_ih^T + b (T, B, 4H), is one GEMM
in torch before the loop. Then each step t launches `_cell_kernel` over a grid of
(BLOCK_B batch rows) x (BLOCK_H hidden units). A program walks K over H and feeds
each tile of h_{t-1} to four dots, one per gate (i, f, g, o), so the four
(BLOCK_B, BLOCK_H) gate pre-activations stay in registers; it then adds x_proj[t],
applies sigmoid / tanh, updates c and h, and stores h_t, the activated gates and
c_t once. Unfused, torch writes and re-reads the (B, 4H) gate matrix and runs five
elementwise kernels per step.

The state is never copied: step t reads h_{t-1} from y[t-1] and c_{t-1} from
saved[t-1] (h0 and c0 at t = 0), so the launches only differ in their pointers.

Backward is not fused: the op's backward runs the reference BPTT
(`hubkit.rnn.reference.lstm_backward_reference`) on the `saved` this kernel writes.

float32 inputs use TF32 dots only where torch allows TF32 (`tuning.dot_precision`):
the error would compound through T steps, so the default stays exact IEEE.

Every batch row, hidden unit and k index is int64 (hubkit.kernels.indexing).

Shapes: x (T, B, I), h0 and c0 (B, H), w_ih (4H, I), w_hh (4H, H), bias (4H,)
-> y (T, B, H), h_n (B, H), c_n (B, H), saved (T, B, 5H) = [i, f, g, o, c].
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from hubkit.kernels.indexing import block_offsets, offsets
from hubkit.kernels.tuning import device_class, dot_precision, kind


@triton.jit
def _gate_dot(acc, h, w_ptr, q, rn, rk, H, PRECISION: tl.constexpr):
    """acc + h (BB, BK) @ W_hh[q*H + rn, rk]^T (BK, BN): one gate's recurrent product."""
    wt = tl.load(w_ptr + (q * H + rn[None, :]) * H + rk[:, None],
                 mask=(rn[None, :] < H) & (rk[:, None] < H), other=0.0)
    return tl.dot(h, wt.to(h.dtype), acc, input_precision=PRECISION)


@triton.jit
def _sigmoid(z):
    return 1.0 / (1.0 + tl.exp(-z))


@triton.jit
def _tanh(z):
    # subtle: 2 sigmoid(2z) - 1 stays finite for large |z|, where (e^2z - 1) / (e^2z + 1)
    # would give inf / inf = nan.
    return 2.0 * _sigmoid(2.0 * z) - 1.0


@triton.jit
def _cell_kernel(xp_ptr, w_ptr, h_prev_ptr, c_prev_ptr, c_prev_stride, y_ptr, saved_ptr, B, H,
                 PRECISION: tl.constexpr, BLOCK_B: tl.constexpr, BLOCK_H: tl.constexpr,
                 BLOCK_K: tl.constexpr):
    rb = block_offsets(tl.program_id(0), BLOCK_B)
    rn = block_offsets(tl.program_id(1), BLOCK_H)
    zi = tl.zeros((BLOCK_B, BLOCK_H), dtype=tl.float32)
    zf = tl.zeros((BLOCK_B, BLOCK_H), dtype=tl.float32)
    zg = tl.zeros((BLOCK_B, BLOCK_H), dtype=tl.float32)
    zo = tl.zeros((BLOCK_B, BLOCK_H), dtype=tl.float32)
    for k0 in range(0, H, BLOCK_K):
        rk = offsets(k0, BLOCK_K)
        # subtle: masked lanes load 0, so the K tail and padded rows add nothing.
        h = tl.load(h_prev_ptr + rb[:, None] * H + rk[None, :],
                    mask=(rb[:, None] < B) & (rk[None, :] < H), other=0.0)     # (BB, BK)
        zi = _gate_dot(zi, h, w_ptr, 0, rn, rk, H, PRECISION)
        zf = _gate_dot(zf, h, w_ptr, 1, rn, rk, H, PRECISION)
        zg = _gate_dot(zg, h, w_ptr, 2, rn, rk, H, PRECISION)
        zo = _gate_dot(zo, h, w_ptr, 3, rn, rk, H, PRECISION)
    mask = (rb[:, None] < B) & (rn[None, :] < H)
    xp = xp_ptr + rb[:, None] * (4 * H) + rn[None, :]                          # (BB, BN) ptrs
    i = _sigmoid(zi + tl.load(xp, mask=mask, other=0.0).to(tl.float32))
    f = _sigmoid(zf + tl.load(xp + H, mask=mask, other=0.0).to(tl.float32))
    g = _tanh(zg + tl.load(xp + 2 * H, mask=mask, other=0.0).to(tl.float32))
    o = _sigmoid(zo + tl.load(xp + 3 * H, mask=mask, other=0.0).to(tl.float32))
    c_prev = tl.load(c_prev_ptr + rb[:, None] * c_prev_stride + rn[None, :], mask=mask,
                     other=0.0).to(tl.float32)
    c = f * c_prev + i * g
    h_new = o * _tanh(c)
    tl.store(y_ptr + rb[:, None] * H + rn[None, :], h_new.to(y_ptr.dtype.element_ty), mask=mask)
    out = saved_ptr + rb[:, None] * (5 * H) + rn[None, :]
    ty = saved_ptr.dtype.element_ty
    tl.store(out, i.to(ty), mask=mask)
    tl.store(out + H, f.to(ty), mask=mask)
    tl.store(out + 2 * H, g.to(ty), mask=mask)
    tl.store(out + 3 * H, o.to(ty), mask=mask)
    tl.store(out + 4 * H, c.to(ty), mask=mask)


BATCH_BLOCKS = (16, 32, 64)  # BLOCK_B follows the batch; tl.dot needs every dim >= 16
# (BLOCK_H, BLOCK_K, num_warps) on a GPU per input kind (hubkit.kernels.tuning.KINDS):
# no register spill at sm_80/sm_90 for any BLOCK_B (benchmarks/gpu_static.py). The four
# gate accumulators (BLOCK_B, BLOCK_H) live at once; exact float32 ("ieee") dots are FMA
# loops whose operands stay in registers across BLOCK_K, hence its short K step and 8
# warps (4 warps spilled 4 B at BLOCK_B 64 on sm_80).
_GPU_TILES = {"16bit": (32, 32, 4), "tf32": (32, 32, 4), "ieee": (32, 16, 8)}


def gpu_config(kind_: str, block_b: int) -> dict:
    """The cell kernel's launch config on a GPU for an input kind and a batch block."""
    block_h, block_k, warps = _GPU_TILES[kind_]
    return {"BLOCK_B": block_b, "BLOCK_H": block_h, "BLOCK_K": block_k, "num_warps": warps}


def _launch(x: torch.Tensor, b: int, precision: str) -> dict:
    """Tile sizes: a GPU takes wider tiles; the CPU interpreter the smallest tl.dot allows."""
    block_b = max(16, min(64, triton.next_power_of_2(b)))
    if device_class(x) != "cpu":
        return gpu_config(kind(x.dtype, precision), block_b)
    return {"BLOCK_B": block_b, "BLOCK_H": 16, "BLOCK_K": 16}


def lstm_forward(x: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor, w_ih: torch.Tensor,
                 w_hh: torch.Tensor, bias: torch.Tensor | None):
    """(y (T, B, H), h_n (B, H), c_n (B, H), saved (T, B, 5H)) for contiguous inputs."""
    t, b, _ = x.shape
    h = h0.shape[1]
    xp = x.reshape(t * b, -1) @ w_ih.T                                 # (T*B, 4H): one GEMM
    xp = (xp if bias is None else xp + bias).reshape(t, b, 4 * h)
    y = x.new_empty(t, b, h)
    saved = x.new_empty(t, b, 5 * h)
    precision = dot_precision(x.dtype)
    cfg = _launch(x, b, precision)
    grid = (triton.cdiv(b, cfg["BLOCK_B"]), triton.cdiv(h, cfg["BLOCK_H"]))
    for step in range(t):
        # subtle: h_{t-1} and c_{t-1} are read from the previous step's outputs; c sits
        # in the last H columns of saved's 5H-wide rows, hence the row stride.
        h_prev, c_prev, c_stride = ((h0, c0, h) if step == 0 else
                                    (y[step - 1], saved[step - 1, :, 4 * h:], 5 * h))
        _cell_kernel[grid](xp[step], w_hh, h_prev, c_prev, c_stride, y[step], saved[step],
                           b, h, PRECISION=precision, **cfg)
    return y, y[-1].clone(), saved[-1, :, 4 * h:].clone(), saved
