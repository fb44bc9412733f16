"""Autotune config sets of the fused LoRA kernels, per GPU architecture, input kind and rank.

Keys: (arch, kind, rank class) -> configs; arch "sm_80" or "sm_90", kind "16bit"
(bf16/fp16), "tf32" (fp32, TF32 dots) or "ieee" (fp32, exact FMA dots), rank class 32
(BLOCK_R <= 32, r <= 32) or 128 (BLOCK_R 64 or 128). Every config compiles with zero
register spills on its arch at the class's largest BLOCK_R (`benchmarks/gpu_static.py`
compiles exactly these lists); ranks above 128 run the 128 class unverified.

One known exception, ("ieee", 128): exact float32 dots are FMA loops in which every thread
keeps its rows and columns of both operands for the whole reduction, and the epilogue dot
(x A^T) B^T reduces over BLOCK_R = 128, so its operands alone need >= 256 registers per
thread whatever the tile: ~100 B spill at BLOCK_R = 128 (none at r <= 32). Allow TF32
(`torch.backends.cuda.matmul.allow_tf32 = True`) or keep r <= 32 for a spill-free build.

For `_grad_x_kernel` the output tile is (BLOCK_M, BLOCK_K) and the loop steps over N by
BLOCK_N, so its configs are wide in K and short in N.

The rank tile x A^T (BLOCK_M, BLOCK_R) lives in registers beside the (BLOCK_M, BLOCK_N)
accumulator, which is why r = 64..128 takes smaller or wider-warp tiles than r <= 32.
"""

from __future__ import annotations

from hubkit.kernels.tuning import ConfigSets, config

RANK_CLASSES = (32, 128)


def rank_class(block_r: int) -> int:
    """32 for BLOCK_R <= 32, else 128: the size key of the config sets."""
    return 32 if block_r <= 32 else 128


def _c(bm: int, bn: int, bk: int, warps: int, stages: int):
    return config(BLOCK_M=bm, BLOCK_N=bn, BLOCK_K=bk, num_warps=warps, num_stages=stages)


_INTERPRETER = config(BLOCK_M=16, BLOCK_N=16, BLOCK_K=16)

FORWARD = ConfigSets(
    per_arch={
        ("sm_80", "16bit", 32):
            [_c(128, 128, 64, 8, 3), _c(64, 128, 64, 4, 3), _c(64, 64, 64, 4, 3)],
        ("sm_80", "16bit", 128): [_c(64, 128, 64, 8, 3), _c(64, 64, 64, 8, 3)],
        ("sm_80", "tf32", 32): [_c(64, 128, 32, 8, 3), _c(64, 64, 32, 4, 3)],
        ("sm_80", "tf32", 128): [_c(64, 128, 32, 8, 3), _c(64, 64, 32, 8, 3)],
        ("sm_80", "ieee", 32): [_c(64, 32, 16, 8, 2), _c(32, 32, 16, 4, 2)],
        ("sm_80", "ieee", 128): [_c(32, 32, 16, 8, 2)],
        ("sm_90", "16bit", 32):
            [_c(128, 128, 64, 8, 3), _c(64, 128, 64, 4, 3), _c(64, 64, 64, 4, 3)],
        ("sm_90", "16bit", 128): [_c(64, 128, 64, 8, 3), _c(64, 64, 64, 4, 3)],
        ("sm_90", "tf32", 32): [_c(128, 128, 32, 8, 3), _c(64, 64, 32, 4, 3)],
        ("sm_90", "tf32", 128): [_c(64, 128, 32, 8, 3), _c(64, 64, 32, 4, 3)],
        ("sm_90", "ieee", 32): [_c(64, 32, 16, 8, 2), _c(32, 32, 16, 4, 2)],
        ("sm_90", "ieee", 128): [_c(32, 32, 16, 8, 2)],
    },
    interpreter=_INTERPRETER,
)

GRAD_X = ConfigSets(
    per_arch={
        ("sm_80", "16bit", 32):
            [_c(128, 64, 128, 8, 3), _c(64, 64, 128, 4, 3), _c(64, 64, 64, 4, 3)],
        ("sm_80", "16bit", 128): [_c(64, 64, 128, 8, 3), _c(64, 64, 64, 8, 3)],
        ("sm_80", "tf32", 32): [_c(64, 32, 128, 8, 3), _c(64, 32, 64, 4, 3)],
        ("sm_80", "tf32", 128): [_c(64, 32, 128, 8, 3), _c(64, 32, 64, 8, 3)],
        ("sm_80", "ieee", 32): [_c(64, 16, 32, 8, 2), _c(32, 16, 32, 4, 2)],
        ("sm_80", "ieee", 128): [_c(32, 16, 32, 8, 2)],
        ("sm_90", "16bit", 32):
            [_c(128, 64, 128, 8, 3), _c(64, 64, 128, 4, 3), _c(64, 64, 64, 4, 3)],
        ("sm_90", "16bit", 128): [_c(64, 64, 128, 8, 3), _c(64, 64, 64, 4, 3)],
        ("sm_90", "tf32", 32): [_c(128, 32, 128, 8, 3), _c(64, 32, 64, 4, 3)],
        ("sm_90", "tf32", 128): [_c(64, 32, 128, 8, 3), _c(64, 32, 64, 4, 3)],
        ("sm_90", "ieee", 32): [_c(64, 16, 32, 8, 2), _c(32, 16, 32, 4, 2)],
        ("sm_90", "ieee", 128): [_c(32, 16, 32, 8, 2)],
    },
    interpreter=_INTERPRETER,
)

# The skinny backward matmuls (x A^T, (g B)^T x, g^T (x A^T)): one config per kind.
_MATMUL = {"16bit": {"BLOCK_M": 64, "BLOCK_N": 64, "BLOCK_K": 64, "num_warps": 4,
                     "num_stages": 3},
           "tf32": {"BLOCK_M": 64, "BLOCK_N": 64, "BLOCK_K": 32, "num_warps": 8,
                    "num_stages": 3},
           "ieee": {"BLOCK_M": 32, "BLOCK_N": 32, "BLOCK_K": 16, "num_warps": 4,
                    "num_stages": 2}}
_MATMUL_INTERPRETER = {"BLOCK_M": 16, "BLOCK_N": 16, "BLOCK_K": 16}


def matmul(device_class: str, kind: str) -> dict:
    """Launch config of `_matmul_kernel` (the same on every GPU; tiny on the CPU)."""
    return _MATMUL_INTERPRETER if device_class == "cpu" else _MATMUL[kind]
