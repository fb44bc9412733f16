"""Fused LoRA linear in Triton: y = x W^T + b + scale * (x A^T) B^T in one pass.

Forward: one program per (BLOCK_M, BLOCK_N) tile of y. Walking K, it loads a
tile of x once and feeds it to two dots: the base product x W^T and the
rank-r product x A^T, kept in registers (BLOCK_M, BLOCK_R) and never written
out. After the K loop, one more r-deep dot adds scale * (x A^T) B^T, then the
bias, and y is written once. The unfused version (three matmuls, as PEFT runs
it) reads x twice, writes and re-reads x A^T, and writes y twice (base, then the
sum).

Backward, with g = dL/dy (M, N):
* grad_x = g W + scale * (g B) A, fused the same way over N; the programs of the
  first K tile also store g B (M, r), which the next step needs.

Both fused kernels visit tiles in groups of GROUP_M row tiles (`_grouped_tile`) for
L2 reuse, as in Triton's matmul tutorial.
* grad_A = scale * (g B)^T x and grad_B = scale * g^T (x A^T): two skinny
  matmuls whose rank-r operands have r columns, never M x N or N x K.

Tiles are autotuned (`configs.py`: per GPU arch, input kind and rank class, keyed on the
problem dims with M bucketed); float32 inputs use TF32 dots only where torch allows TF32.
The CPU interpreter runs one small config.

Every row, column and k index is int64 (hubkit.kernels.indexing): x, g and y
may hold more than 2**31 elements.

Shapes: x (M, K), W (N, K) (any strides), b (N,), A (r, K), B (N, r); M rows (all leading
dims of x), K in features, N out features, r rank.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from hubkit.kernels.indexing import block_offsets, offsets
from hubkit.kernels.lora import configs
from hubkit.kernels.lora.configs import rank_class
from hubkit.kernels.tuning import autotuned, bucket, device_class, dot_precision, kind


@triton.jit
def _grouped_tile(M, N, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, GROUP_M: tl.constexpr):
    """(row tile, column tile) of this program, visiting GROUP_M row tiles per column sweep.

    Programs that run at the same time then share the same few x row-blocks and W
    column-blocks, so those stay in L2 instead of being re-read from memory.
    """
    pid = tl.program_id(0)
    tiles_m, tiles_n = tl.cdiv(M, BLOCK_M), tl.cdiv(N, BLOCK_N)
    first_m = (pid // (GROUP_M * tiles_n)) * GROUP_M
    group_m = min(tiles_m - first_m, GROUP_M)
    return first_m + (pid % group_m), (pid % (GROUP_M * tiles_n)) // group_m


@triton.jit
def _forward_kernel(x_ptr, w_ptr, bias_ptr, a_ptr, b_ptr, y_ptr, M, N, K, R, swn, swk,
                    scale, M_BUCKET, HAS_BIAS: tl.constexpr, PRECISION: tl.constexpr,
                    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
                    BLOCK_R: tl.constexpr, GROUP_M: tl.constexpr):
    pid_m, pid_n = _grouped_tile(M, N, BLOCK_M, BLOCK_N, GROUP_M)
    rm = block_offsets(pid_m, BLOCK_M)
    rn = block_offsets(pid_n, BLOCK_N)
    rr = tl.arange(0, BLOCK_R)
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    xa = tl.zeros((BLOCK_M, BLOCK_R), dtype=tl.float32)  # x A^T for this row tile, on chip
    for k0 in range(0, K, BLOCK_K):
        rk = offsets(k0, BLOCK_K)
        # subtle: masked lanes load 0, so the K tail adds nothing to either dot.
        x = tl.load(x_ptr + rm[:, None] * K + rk[None, :],
                    mask=(rm[:, None] < M) & (rk[None, :] < K), other=0.0)       # (BM, BK)
        wt = tl.load(w_ptr + rn[None, :] * swn + rk[:, None] * swk,
                     mask=(rn[None, :] < N) & (rk[:, None] < K), other=0.0)      # (BK, BN)
        at = tl.load(a_ptr + rr[None, :] * K + rk[:, None],
                     mask=(rr[None, :] < R) & (rk[:, None] < K), other=0.0)      # (BK, BR)
        acc = tl.dot(x, wt, acc, input_precision=PRECISION)
        xa = tl.dot(x, at, xa, input_precision=PRECISION)
    bt = tl.load(b_ptr + rn[None, :] * R + rr[:, None],
                 mask=(rn[None, :] < N) & (rr[:, None] < R), other=0.0)          # (BR, BN)
    # subtle: x A^T is rounded to the input dtype before the second dot, exactly
    # as the unfused path stores it; this keeps the two paths' numerics equal.
    acc += scale * tl.dot(xa.to(bt.dtype), bt, input_precision=PRECISION)
    if HAS_BIAS:
        acc += tl.load(bias_ptr + rn, mask=rn < N, other=0.0).to(tl.float32)[None, :]
    tl.store(y_ptr + rm[:, None] * N + rn[None, :], acc.to(y_ptr.dtype.element_ty),
             mask=(rm[:, None] < M) & (rn[None, :] < N))


@triton.jit
def _grad_x_kernel(g_ptr, w_ptr, a_ptr, b_ptr, gx_ptr, gb_ptr, M, N, K, R, swn, swk, scale,
                   M_BUCKET, PRECISION: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                   BLOCK_K: tl.constexpr, BLOCK_R: tl.constexpr, GROUP_M: tl.constexpr):
    pid_m, pid_k = _grouped_tile(M, K, BLOCK_M, BLOCK_K, GROUP_M)
    rm = block_offsets(pid_m, BLOCK_M)
    rk = block_offsets(pid_k, BLOCK_K)
    rr = tl.arange(0, BLOCK_R)
    acc = tl.zeros((BLOCK_M, BLOCK_K), dtype=tl.float32)
    gb = tl.zeros((BLOCK_M, BLOCK_R), dtype=tl.float32)  # g B for this row tile, on chip
    for n0 in range(0, N, BLOCK_N):
        rn = offsets(n0, BLOCK_N)
        g = tl.load(g_ptr + rm[:, None] * N + rn[None, :],
                    mask=(rm[:, None] < M) & (rn[None, :] < N), other=0.0)       # (BM, BN)
        w = tl.load(w_ptr + rn[:, None] * swn + rk[None, :] * swk,
                    mask=(rn[:, None] < N) & (rk[None, :] < K), other=0.0)       # (BN, BK)
        b = tl.load(b_ptr + rn[:, None] * R + rr[None, :],
                    mask=(rn[:, None] < N) & (rr[None, :] < R), other=0.0)       # (BN, BR)
        acc = tl.dot(g, w, acc, input_precision=PRECISION)
        gb = tl.dot(g, b, gb, input_precision=PRECISION)
    a = tl.load(a_ptr + rr[:, None] * K + rk[None, :],
                mask=(rr[:, None] < R) & (rk[None, :] < K), other=0.0)           # (BR, BK)
    acc += scale * tl.dot(gb.to(a.dtype), a, input_precision=PRECISION)
    tl.store(gx_ptr + rm[:, None] * K + rk[None, :], acc.to(gx_ptr.dtype.element_ty),
             mask=(rm[:, None] < M) & (rk[None, :] < K))
    if pid_k == 0:
        tl.store(gb_ptr + rm[:, None] * R + rr[None, :], gb.to(gb_ptr.dtype.element_ty),
                 mask=(rm[:, None] < M) & (rr[None, :] < R))


@triton.jit
def _matmul_kernel(a_ptr, b_ptr, c_ptr, M, N, K, sam, sak, sbk, sbn, scale,
                   PRECISION: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                   BLOCK_K: tl.constexpr):
    """c (M, N) = scale * a (M, K) @ b (K, N), any strides for a and b; c contiguous."""
    rm = block_offsets(tl.program_id(0), BLOCK_M)
    rn = block_offsets(tl.program_id(1), BLOCK_N)
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k0 in range(0, K, BLOCK_K):
        rk = offsets(k0, BLOCK_K)
        a = tl.load(a_ptr + rm[:, None] * sam + rk[None, :] * sak,
                    mask=(rm[:, None] < M) & (rk[None, :] < K), other=0.0)
        b = tl.load(b_ptr + rk[:, None] * sbk + rn[None, :] * sbn,
                    mask=(rk[:, None] < K) & (rn[None, :] < N), other=0.0)
        acc = tl.dot(a, b.to(a.dtype), acc, input_precision=PRECISION)
    tl.store(c_ptr + rm[:, None] * N + rn[None, :], (acc * scale).to(c_ptr.dtype.element_ty),
             mask=(rm[:, None] < M) & (rn[None, :] < N))


def _block_r(r: int) -> int:
    return max(16, triton.next_power_of_2(r))  # tl.dot needs every dim >= 16


def _where(args: dict) -> tuple[str, str, int]:
    """(device class, kind, rank class) of a launch: which config list it tries."""
    x = args["x_ptr"] if "x_ptr" in args else args["g_ptr"]
    return device_class(x), kind(x.dtype, args["PRECISION"]), rank_class(args["BLOCK_R"])


# Autotuned launchers over the problem dims (M bucketed); the raw kernels stay importable.
_KEY = ["M_BUCKET", "N", "K", "BLOCK_R", "PRECISION"]  # plus the tensors' dtypes
_forward = autotuned(_forward_kernel, configs.FORWARD, _KEY, _where)
_grad_x = autotuned(_grad_x_kernel, configs.GRAD_X, _KEY, _where)


def lora_forward(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                 lora_a: torch.Tensor, lora_b: torch.Tensor, scale: float) -> torch.Tensor:
    """y (M, N) for contiguous x (M, K), A (r, K), B (N, r), b (N,) or None; W (N, K).

    W may be a transposed view (GPT-2 stores it (K, N)): the kernel reads it by strides.
    """
    (m, k), n, r = x.shape, weight.shape[0], lora_a.shape[0]
    y = torch.empty(m, n, dtype=x.dtype, device=x.device)
    if m == 0 or n == 0:
        return y
    grid = lambda meta: (triton.cdiv(m, meta["BLOCK_M"]) * triton.cdiv(n, meta["BLOCK_N"]),)  # noqa: E731
    _forward[grid](x, weight, bias if bias is not None else x, lora_a, lora_b, y,
                   m, n, k, r, weight.stride(0), weight.stride(1), float(scale), bucket(m),
                   HAS_BIAS=bias is not None, PRECISION=dot_precision(x.dtype),
                   BLOCK_R=_block_r(r), GROUP_M=8)
    return y


def _matmul(a: torch.Tensor, b: torch.Tensor, scale: float, out_dtype: torch.dtype):
    """scale * a @ b for 2-D a (M, K) and b (K, N) of any strides."""
    (m, k), n = a.shape, b.shape[1]
    c = torch.zeros(m, n, dtype=out_dtype, device=a.device)
    if m == 0 or n == 0:
        return c
    precision = dot_precision(a.dtype)
    cfg = dict(configs.matmul(device_class(a), kind(a.dtype, precision)))
    cfg["BLOCK_N"] = min(cfg["BLOCK_N"], max(16, triton.next_power_of_2(n)))
    grid = (triton.cdiv(m, cfg["BLOCK_M"]), triton.cdiv(n, cfg["BLOCK_N"]))
    _matmul_kernel[grid](a, b, c, m, n, k, a.stride(0), a.stride(1), b.stride(0), b.stride(1),
                         float(scale), PRECISION=precision, **cfg)
    return c


def lora_backward(grad: torch.Tensor, x: torch.Tensor, weight: torch.Tensor,
                  lora_a: torch.Tensor, lora_b: torch.Tensor, scale: float):
    """(grad_x (M, K), grad_a (r, K), grad_b (N, r)) for contiguous 2-D inputs."""
    (m, k), n, r = x.shape, weight.shape[0], lora_a.shape[0]
    gx = torch.empty_like(x)
    gb = torch.zeros(m, r, dtype=torch.float32, device=x.device)  # g B, r columns only
    if m and k:
        grid = lambda meta: (triton.cdiv(m, meta["BLOCK_M"]) * triton.cdiv(k, meta["BLOCK_K"]),)  # noqa: E731
        _grad_x[grid](grad, weight, lora_a, lora_b, gx, gb, m, n, k, r, weight.stride(0),
                      weight.stride(1), float(scale), bucket(m),
                      PRECISION=dot_precision(x.dtype), BLOCK_R=_block_r(r), GROUP_M=8)
    xa = _matmul(x, lora_a.t(), 1.0, x.dtype)                         # (M, r)
    grad_a = _matmul(gb.to(x.dtype).t(), x, scale, x.dtype)           # (r, K)
    grad_b = _matmul(grad.t(), xa, scale, x.dtype)                    # (N, r)
    return gx, grad_a, grad_b
