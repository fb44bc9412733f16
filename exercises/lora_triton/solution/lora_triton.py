"""Fused LoRA linear in Triton: y = x W^T + b + scale * (x A^T) B^T, forward and backward.

Shapes: x (M, K), W (N, K), b (N,), A (r, K), B (N, r); R is r, padded up to
BLOCK_R (a power of two >= 16) inside the kernels.
"""

import torch
import triton
import triton.language as tl


@triton.jit
def lora_forward_kernel(x_ptr, w_ptr, bias_ptr, a_ptr, b_ptr, y_ptr, M, N, K, R, scale,
                        BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
                        BLOCK_R: tl.constexpr):
    """One program per (BLOCK_M, BLOCK_N) tile of y; every tensor is contiguous."""
    # BEGIN SOLUTION
    # starter> # Step 1: row offsets rm, column offsets rn, rank offsets rr = tl.arange(0, BLOCK_R).
    # starter> # Step 2: two float32 accumulators: acc (BLOCK_M, BLOCK_N) and xa (BLOCK_M, BLOCK_R).
    # starter> # Step 3: loop over K in BLOCK_K steps: load the x tile ONCE, then
    # starter> #         acc = tl.dot(x, W^T tile, acc) and xa = tl.dot(x, A^T tile, xa).
    # starter> # Step 4: after the loop, acc += scale * tl.dot(xa, B^T tile); add the bias; store y.
    # starter> pass
    rm = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
    rn = tl.program_id(1) * BLOCK_N + tl.arange(0, BLOCK_N)
    rr = tl.arange(0, BLOCK_R)
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    xa = tl.zeros((BLOCK_M, BLOCK_R), dtype=tl.float32)
    for k0 in range(0, K, BLOCK_K):
        rk = k0 + tl.arange(0, BLOCK_K)
        x = tl.load(x_ptr + rm[:, None] * K + rk[None, :],
                    mask=(rm[:, None] < M) & (rk[None, :] < K), other=0.0)
        wt = tl.load(w_ptr + rn[None, :] * K + rk[:, None],
                     mask=(rn[None, :] < N) & (rk[:, None] < K), other=0.0)
        at = tl.load(a_ptr + rr[None, :] * K + rk[:, None],
                     mask=(rr[None, :] < R) & (rk[:, None] < K), other=0.0)
        acc = tl.dot(x, wt, acc, input_precision="ieee")
        xa = tl.dot(x, at, xa, input_precision="ieee")
    bt = tl.load(b_ptr + rn[None, :] * R + rr[:, None],
                 mask=(rn[None, :] < N) & (rr[:, None] < R), other=0.0)
    acc += scale * tl.dot(xa.to(bt.dtype), bt, input_precision="ieee")
    acc += tl.load(bias_ptr + rn, mask=rn < N, other=0.0).to(tl.float32)[None, :]
    tl.store(y_ptr + rm[:, None] * N + rn[None, :], acc.to(y_ptr.dtype.element_ty),
             mask=(rm[:, None] < M) & (rn[None, :] < N))
    # END SOLUTION


@triton.jit
def lora_grad_x_kernel(g_ptr, w_ptr, a_ptr, b_ptr, gx_ptr, gb_ptr, M, N, K, R, scale,
                       BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
                       BLOCK_R: tl.constexpr):
    """grad_x = g W + scale * (g B) A, one program per (BLOCK_M, BLOCK_K) tile; also g B."""
    # BEGIN SOLUTION
    # starter> # Step 6: the forward's pattern with the roles changed: loop over N, load the
    # starter> #         g tile once for tl.dot(g, W tile) and tl.dot(g, B tile) (g B: r wide),
    # starter> #         then add scale * (g B) A. Programs with program_id(1) == 0 also store
    # starter> #         g B (M, r) in gb_ptr for the gradient of A.
    # starter> pass
    rm = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
    rk = tl.program_id(1) * BLOCK_K + tl.arange(0, BLOCK_K)
    rr = tl.arange(0, BLOCK_R)
    acc = tl.zeros((BLOCK_M, BLOCK_K), dtype=tl.float32)
    gb = tl.zeros((BLOCK_M, BLOCK_R), dtype=tl.float32)
    for n0 in range(0, N, BLOCK_N):
        rn = n0 + tl.arange(0, BLOCK_N)
        g = tl.load(g_ptr + rm[:, None] * N + rn[None, :],
                    mask=(rm[:, None] < M) & (rn[None, :] < N), other=0.0)
        w = tl.load(w_ptr + rn[:, None] * K + rk[None, :],
                    mask=(rn[:, None] < N) & (rk[None, :] < K), other=0.0)
        b = tl.load(b_ptr + rn[:, None] * R + rr[None, :],
                    mask=(rn[:, None] < N) & (rr[None, :] < R), other=0.0)
        acc = tl.dot(g, w, acc, input_precision="ieee")
        gb = tl.dot(g, b, gb, input_precision="ieee")
    a = tl.load(a_ptr + rr[:, None] * K + rk[None, :],
                mask=(rr[:, None] < R) & (rk[None, :] < K), other=0.0)
    acc += scale * tl.dot(gb.to(a.dtype), a, input_precision="ieee")
    tl.store(gx_ptr + rm[:, None] * K + rk[None, :], acc.to(gx_ptr.dtype.element_ty),
             mask=(rm[:, None] < M) & (rk[None, :] < K))
    if tl.program_id(1) == 0:
        tl.store(gb_ptr + rm[:, None] * R + rr[None, :], gb,
                 mask=(rm[:, None] < M) & (rr[None, :] < R))
    # END SOLUTION


@triton.jit
def matmul_kernel(a_ptr, b_ptr, c_ptr, M, N, K, sam, sak, sbk, sbn, scale,
                  BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr):
    """c (M, N) = scale * a (M, K) @ b (K, N); a and b with any strides, c contiguous (given)."""
    rm = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
    rn = tl.program_id(1) * BLOCK_N + tl.arange(0, BLOCK_N)
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k0 in range(0, K, BLOCK_K):
        rk = k0 + tl.arange(0, BLOCK_K)
        a = tl.load(a_ptr + rm[:, None] * sam + rk[None, :] * sak,
                    mask=(rm[:, None] < M) & (rk[None, :] < K), other=0.0)
        b = tl.load(b_ptr + rk[:, None] * sbk + rn[None, :] * sbn,
                    mask=(rk[:, None] < K) & (rn[None, :] < N), other=0.0)
        acc = tl.dot(a, b.to(a.dtype), acc, input_precision="ieee")
    tl.store(c_ptr + rm[:, None] * N + rn[None, :], (acc * scale).to(c_ptr.dtype.element_ty),
             mask=(rm[:, None] < M) & (rn[None, :] < N))


BLOCK = 16  # small tiles: the CPU interpreter is slow; use 64-128 on a GPU


def _block_r(r: int) -> int:
    return max(16, triton.next_power_of_2(r))  # tl.dot needs every dim >= 16


def matmul(a: torch.Tensor, b: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """scale * a @ b with the given kernel (no torch matmul in this exercise)."""
    (m, k), n = a.shape, b.shape[1]
    c = torch.zeros(m, n, dtype=a.dtype, device=a.device)
    if m and n:
        grid = (triton.cdiv(m, BLOCK), triton.cdiv(n, BLOCK))
        matmul_kernel[grid](a, b, c, m, n, k, a.stride(0), a.stride(1), b.stride(0),
                            b.stride(1), scale, BLOCK_M=BLOCK, BLOCK_N=BLOCK, BLOCK_K=BLOCK)
    return c


def lora_forward(x, weight, bias, lora_a, lora_b, scale):
    """y (M, N) for contiguous x (M, K), weight (N, K), bias (N,), A (r, K), B (N, r)."""
    # BEGIN SOLUTION
    # starter> # Step 5: allocate y (M, N); launch lora_forward_kernel on a 2-D grid of tiles.
    # starter> raise NotImplementedError("not implemented yet")
    (m, k), n, r = x.shape, weight.shape[0], lora_a.shape[0]
    y = torch.empty(m, n, dtype=x.dtype, device=x.device)
    grid = (triton.cdiv(m, BLOCK), triton.cdiv(n, BLOCK))
    lora_forward_kernel[grid](x, weight, bias, lora_a, lora_b, y, m, n, k, r, scale,
                              BLOCK_M=BLOCK, BLOCK_N=BLOCK, BLOCK_K=BLOCK, BLOCK_R=_block_r(r))
    return y
    # END SOLUTION


def lora_backward(grad, x, weight, lora_a, lora_b, scale):
    """(grad_x (M, K), grad_a (r, K), grad_b (N, r)) for contiguous 2-D inputs."""
    # BEGIN SOLUTION
    # starter> # Step 7 (after the forward passes): launch lora_grad_x_kernel, then
    # starter> #   grad_a = scale * (g B)^T x and grad_b = scale * g^T (x A^T) with matmul().
    # starter> raise NotImplementedError("not implemented yet")
    (m, k), n, r = x.shape, weight.shape[0], lora_a.shape[0]
    gx = torch.empty_like(x)
    gb = torch.zeros(m, r, dtype=torch.float32, device=x.device)
    grid = (triton.cdiv(m, BLOCK), triton.cdiv(k, BLOCK))
    lora_grad_x_kernel[grid](grad, weight, lora_a, lora_b, gx, gb, m, n, k, r, scale,
                             BLOCK_M=BLOCK, BLOCK_N=BLOCK, BLOCK_K=BLOCK, BLOCK_R=_block_r(r))
    xa = matmul(x, lora_a.t())                          # (M, r)
    grad_a = matmul(gb.to(x.dtype).t(), x, scale)       # (r, K)
    grad_b = matmul(grad.t(), xa, scale)                # (N, r)
    return gx, grad_a, grad_b
    # END SOLUTION


class LoRALinearFunction(torch.autograd.Function):
    """Wires lora_forward / lora_backward into autograd (given; W gets no gradient)."""

    @staticmethod
    def forward(ctx, x, weight, bias, lora_a, lora_b, scale):
        x2 = x.reshape(-1, x.shape[-1]).contiguous()  # (M, K)
        args = [t.contiguous() for t in (weight, bias, lora_a, lora_b)]
        y = lora_forward(x2, *args, scale)
        ctx.save_for_backward(x2, args[0], args[2], args[3])
        ctx.scale, ctx.x_shape = scale, x.shape
        return y.reshape(*x.shape[:-1], weight.shape[0])

    @staticmethod
    def backward(ctx, grad):
        x2, weight, lora_a, lora_b = ctx.saved_tensors
        g2 = grad.reshape(-1, grad.shape[-1]).contiguous()  # (M, N)
        gx, ga, gb = lora_backward(g2, x2, weight, lora_a, lora_b, ctx.scale)
        return gx.reshape(ctx.x_shape), None, g2.sum(0), ga, gb, None


def lora_linear(x, weight, bias, lora_a, lora_b, scale):
    """x W^T + b + scale * (x A^T) B^T for x (..., K); gradients for x, bias, A and B."""
    return LoRALinearFunction.apply(x, weight, bias, lora_a, lora_b, scale)
