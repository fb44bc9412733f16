"""Triton kernels index in int64, so tensors past 2**31 elements are safe.

On the CPU the interpreter runs the real kernels with the program id a launch
at grid position ~2**32 / BLOCK would see (patched into the interpreter): an
int32 `pid * BLOCK` wraps to a small offset there and overwrites block 0,
while int64 offsets land past the end and are masked off. On a GPU, tests
marked `gpu` run tensors of more than 2**31 elements.
"""

from __future__ import annotations

import os

import pytest
import torch

pytest.importorskip("triton")
import triton.language as tl  # noqa: E402
from hubkit.kernels.indexing import block_offsets  # noqa: E402
from triton import jit  # noqa: E402

pytestmark = pytest.mark.triton
interpreted = pytest.mark.skipif(os.environ.get("TRITON_INTERPRET") != "1",
                                 reason="patches the program id of Triton's CPU interpreter")


@jit
def _block_offsets_probe(out_ptr, pid, BLOCK: tl.constexpr):
    tl.store(out_ptr + tl.arange(0, BLOCK), block_offsets(pid, BLOCK))


@interpreted
def test_block_offsets_are_exact_int64_past_2_31():
    block = 1024
    pid = 2**31 // block + 3  # fits int32; pid * block does not
    out = torch.zeros(block, dtype=torch.int64)
    _block_offsets_probe[(1,)](out, pid, BLOCK=block)
    expected = torch.arange(pid * block, (pid + 1) * block, dtype=torch.int64)
    assert pid * block > 2**31
    assert torch.equal(out, expected)


@pytest.fixture
def program_id_offset(monkeypatch):
    """Make the interpreter report program_id(axis) + base[axis] (a far-away block)."""
    import numpy as np
    from triton.runtime import interpreter

    builder = interpreter.interpreter_builder
    if not hasattr(builder, "create_get_program_id"):
        pytest.skip("this Triton's interpreter has no create_get_program_id")
    base = [0, 0, 0]

    def shifted(axis):
        pid = np.array([builder.grid_idx[axis] + base[axis]], dtype=np.int32)
        return interpreter.TensorHandle(pid, tl.int32)

    monkeypatch.setattr(builder, "create_get_program_id", shifted)
    return base


@interpreted
def test_bias_gelu_block_past_2_32_does_not_wrap_onto_block_0(program_id_offset):
    from hubkit.kernels.bias_gelu import v1_elementwise as k

    program_id_offset[0] = 2**32 // k.BLOCK  # int32 pid * BLOCK wraps to exactly 0
    x, b = torch.randn(2, k.BLOCK // 2), torch.randn(k.BLOCK // 2)
    y = torch.full_like(x, float("nan"))
    k._forward_kernel[(1,)](x, b, y, x.numel(), b.numel(), BLOCK=k.BLOCK)
    assert y.isnan().all(), "the far block wrote into block 0: offsets wrapped in int32"


@interpreted
def test_lora_matmul_row_block_past_2_32_does_not_wrap_onto_row_0(program_id_offset):
    from hubkit.kernels.lora import v1_fused as k

    block_m = 16
    program_id_offset[0] = 2**32 // block_m
    a, b = torch.randn(20, 16), torch.randn(16, 16)
    c = torch.full((20, 16), float("nan"))
    k._matmul_kernel[(1, 1)](a, b, c, 20, 16, 16, *a.stride(), *b.stride(), 1.0,
                             PRECISION="ieee", BLOCK_M=block_m, BLOCK_N=16, BLOCK_K=16)
    assert c.isnan().all(), "the far row block wrote into row 0: offsets wrapped in int32"


def _big_rows(cols: int) -> int:
    return 2**31 // cols + 3  # rows * cols > 2**31


@pytest.mark.gpu
def test_bias_gelu_triton_past_2_31_elements_on_gpu():
    from hubkit.kernels.bias_gelu import bias_gelu_forward

    cols = 4096
    x = torch.randn(_big_rows(cols), cols, device="cuda", dtype=torch.float16)
    b = torch.randn(cols, device="cuda", dtype=torch.float16)
    y = bias_gelu_forward(x, b)
    tail = torch.nn.functional.gelu(x[-3:].float() + b.float())
    torch.testing.assert_close(y[-3:].float(), tail, atol=2e-3, rtol=2e-3)


@pytest.mark.gpu
def test_lora_forward_triton_past_2_31_elements_of_x_on_gpu():
    from hubkit.kernels.lora import lora_forward

    k_in, n, r = 4096, 64, 8
    gen = torch.Generator(device="cuda").manual_seed(0)
    x = torch.randn(_big_rows(k_in), k_in, device="cuda", dtype=torch.float16, generator=gen)
    w = torch.randn(n, k_in, device="cuda", dtype=torch.float16, generator=gen) / 64
    a = torch.randn(r, k_in, device="cuda", dtype=torch.float16, generator=gen) / 64
    b_lora = torch.randn(n, r, device="cuda", dtype=torch.float16, generator=gen)
    y = lora_forward(x, w, None, a, b_lora, 0.5)
    tail = x[-3:].float()
    expected = tail @ w.float().T + 0.5 * (tail @ a.float().T).half().float() @ b_lora.float().T
    torch.testing.assert_close(y[-3:].float(), expected, atol=3e-2, rtol=3e-2)
