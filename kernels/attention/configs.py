"""Autotune config sets of the attention kernels, per GPU architecture, input kind and head dim.

Keys: (arch, kind, head-dim class) -> configs; arch "sm_80" or "sm_90", kind "16bit"
(bf16/fp16), "tf32" (fp32, TF32 dots) or "ieee" (fp32, exact FMA dots), head-dim class
64 (D <= 64) or 128 (D = 128). A config stays in a list only if it compiles with zero
register spills and fits shared memory on its arch at the class's largest D, causal and
not (`python benchmarks/gpu_static.py --no-cuda --match kernels/attention`, which compiles
exactly these lists); some lists hold a single config because every larger candidate
spilled. Each list ends with its most conservative config, which other GPUs run alone.

For `_bwd_dkdv_kernel` BLOCK_N is the key block a program owns and BLOCK_M the query
step it sweeps; for the forward and dQ kernels BLOCK_M is the program's query block.

Why the IEEE lists are small tiles: exact float32 dots are FMA loops, not tensor-core
instructions, and each thread holds its rows and columns of both operands across the
whole reduction (D), so registers grow with BLOCK x D; 32 x 32 tiles at D = 128 already
need ~180 registers.
"""

from __future__ import annotations

from hubkit.kernels.tuning import ConfigSets, config

HEAD_DIM_CLASSES = (64, 128)


def head_dim_class(d: int) -> int:
    """64 for D <= 64, else 128: the size key of the config sets."""
    return 64 if d <= 64 else 128


def _c(bm: int, bn: int, warps: int, stages: int):
    return config(BLOCK_M=bm, BLOCK_N=bn, num_warps=warps, num_stages=stages)


# Tiny tiles under the CPU interpreter: tests stay fast, tails and causal masks still hit.
_INTERPRETER = config(BLOCK_M=16, BLOCK_N=16)

FWD = ConfigSets(
    per_arch={
        ("sm_80", "16bit", 64): [_c(128, 64, 8, 3), _c(64, 64, 4, 3), _c(64, 32, 4, 4)],
        ("sm_80", "16bit", 128): [_c(128, 32, 8, 2), _c(64, 32, 4, 3)],
        ("sm_80", "tf32", 64): [_c(128, 64, 8, 3), _c(64, 32, 4, 4)],
        ("sm_80", "tf32", 128): [_c(128, 32, 8, 2), _c(64, 32, 4, 2)],
        ("sm_80", "ieee", 64): [_c(64, 32, 8, 2), _c(32, 32, 4, 2)],
        ("sm_80", "ieee", 128): [_c(32, 16, 4, 2), _c(16, 16, 4, 2)],
        ("sm_90", "16bit", 64): [_c(128, 64, 8, 3), _c(128, 32, 4, 3), _c(64, 64, 4, 3)],
        ("sm_90", "16bit", 128): [_c(128, 64, 8, 3), _c(128, 32, 8, 2), _c(64, 32, 4, 3)],
        ("sm_90", "tf32", 64): [_c(128, 64, 8, 3), _c(64, 32, 4, 4)],
        ("sm_90", "tf32", 128): [_c(128, 32, 8, 2), _c(64, 32, 4, 3)],
        ("sm_90", "ieee", 64): [_c(32, 32, 4, 2)],
        ("sm_90", "ieee", 128): [_c(16, 16, 4, 2)],
    },
    interpreter=_INTERPRETER,
)

DQ = ConfigSets(
    per_arch={
        ("sm_80", "16bit", 64): [_c(128, 64, 8, 3), _c(128, 32, 8, 3), _c(64, 32, 4, 3)],
        ("sm_80", "16bit", 128): [_c(128, 32, 8, 2), _c(64, 64, 8, 3), _c(64, 32, 4, 3)],
        ("sm_80", "tf32", 64): [_c(128, 32, 8, 3), _c(64, 32, 4, 3)],
        ("sm_80", "tf32", 128): [_c(64, 32, 4, 2), _c(32, 32, 4, 2)],
        ("sm_80", "ieee", 64): [_c(64, 32, 8, 2), _c(32, 32, 4, 2)],
        ("sm_80", "ieee", 128): [_c(32, 16, 4, 2), _c(16, 16, 4, 2)],
        ("sm_90", "16bit", 64): [_c(128, 64, 8, 3), _c(128, 32, 8, 3), _c(64, 32, 4, 3)],
        ("sm_90", "16bit", 128): [_c(128, 64, 8, 2), _c(128, 32, 8, 2), _c(64, 32, 4, 3)],
        ("sm_90", "tf32", 64): [_c(128, 32, 8, 3), _c(64, 32, 4, 3)],
        ("sm_90", "tf32", 128): [_c(128, 32, 8, 2), _c(64, 32, 4, 3)],
        ("sm_90", "ieee", 64): [_c(64, 32, 8, 2), _c(32, 32, 4, 2)],
        ("sm_90", "ieee", 128): [_c(32, 16, 4, 2), _c(16, 16, 4, 2)],
    },
    interpreter=_INTERPRETER,
)

DKDV = ConfigSets(
    per_arch={
        ("sm_80", "16bit", 64): [_c(32, 128, 8, 3), _c(32, 64, 4, 3)],
        ("sm_80", "16bit", 128): [_c(64, 64, 8, 3), _c(32, 64, 8, 3)],
        ("sm_80", "tf32", 64): [_c(16, 64, 4, 2)],
        ("sm_80", "tf32", 128): [_c(64, 64, 8, 2), _c(16, 64, 4, 2)],
        ("sm_80", "ieee", 64): [_c(16, 32, 4, 2)],
        ("sm_80", "ieee", 128): [_c(16, 32, 4, 2), _c(16, 16, 4, 2)],
        ("sm_90", "16bit", 64): [_c(64, 64, 4, 3), _c(32, 64, 4, 3)],
        ("sm_90", "16bit", 128): [_c(32, 128, 8, 2), _c(16, 64, 4, 3)],
        ("sm_90", "tf32", 64): [_c(32, 64, 4, 3), _c(16, 64, 4, 3)],
        ("sm_90", "tf32", 128): [_c(16, 64, 4, 2)],
        ("sm_90", "ieee", 64): [_c(16, 32, 4, 2), _c(16, 16, 4, 2)],
        ("sm_90", "ieee", 128): [_c(16, 32, 4, 2), _c(16, 16, 4, 2)],
    },
    interpreter=_INTERPRETER,
)

# The dO . O row sums: no dot, one fixed config (BLOCK_M 128 spilled 32 B at sm_90).
PREPROCESS = {"BLOCK_M": 64, "num_warps": 4}
PREPROCESS_INTERPRETER = {"BLOCK_M": 16}
