"""Index helpers shared by hubkit's Triton kernels.

subtle: `tl.program_id` and the loop counters are int32, and so is every
product built from them: `pid * BLOCK`, or a row index times a row length,
wraps to a negative number once it passes 2**31 (an 8 GiB float32 tensor),
and the kernel then reads and writes the wrong memory without an error. Every
index that is scaled by a stride starts here, in int64.
"""

from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def offsets(start, BLOCK: tl.constexpr):
    """The int64 indices start, start + 1, ..., start + BLOCK - 1, shape (BLOCK,)."""
    return start + tl.arange(0, BLOCK).to(tl.int64)


@triton.jit
def block_offsets(pid, BLOCK: tl.constexpr):
    """The int64 indices of block `pid` of size BLOCK: pid * BLOCK + [0, BLOCK)."""
    return offsets(pid.to(tl.int64) * BLOCK, BLOCK)
