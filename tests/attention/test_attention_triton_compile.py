"""The Triton attention kernels compile for an H100 (sm_90) even on a machine without a GPU.

Compiling (not running) catches what the interpreter does not check: dtypes
tl.dot accepts, constexpr control flow, and shared-memory use per config. Run
this file alone, so the kernels are not imported interpreted first:
`pytest -m slow tests/attention/test_attention_triton_compile.py`.
"""

from __future__ import annotations

import pytest
import torch

pytestmark = [pytest.mark.slow, pytest.mark.triton]

_POINTERS = {"_fwd_kernel": ("q_ptr", "k_ptr", "v_ptr", "o_ptr"),
             "_bwd_dkdv_kernel": ("q_ptr", "k_ptr", "v_ptr", "do_ptr", "dk_ptr", "dv_ptr"),
             "_bwd_dq_kernel": ("q_ptr", "k_ptr", "v_ptr", "do_ptr", "dq_ptr")}
_SCALARS = {"_fwd_kernel": ("tq", "tk", "qk_scale", "T_BUCKET"),
            "_bwd_dkdv_kernel": ("tq", "tk", "qk_scale", "sm_scale", "T_BUCKET"),
            "_bwd_dq_kernel": ("tq", "tk", "qk_scale", "sm_scale", "T_BUCKET")}
_STATS = {"_fwd_kernel": ("lse_ptr",), "_bwd_dkdv_kernel": ("lse_ptr", "delta_ptr"),
          "_bwd_dq_kernel": ("lse_ptr", "delta_ptr")}
_PTR_ORDER = {"_fwd_kernel": ("q_ptr", "k_ptr", "v_ptr", "o_ptr", "lse_ptr"),
              "_bwd_dkdv_kernel": ("q_ptr", "k_ptr", "v_ptr", "do_ptr", "lse_ptr", "delta_ptr",
                                   "dk_ptr", "dv_ptr"),
              "_bwd_dq_kernel": ("q_ptr", "k_ptr", "v_ptr", "do_ptr", "lse_ptr", "delta_ptr",
                                 "dq_ptr")}


def _signature(name: str, dt: str) -> dict:
    sig = {p: ("*fp32" if p in _STATS[name] else f"*{dt}") for p in _PTR_ORDER[name]}
    sig.update({s: ("i32" if s in ("tq", "tk", "T_BUCKET") else "fp32") for s in _SCALARS[name]})
    sig.update({c: "constexpr" for c in ("CAUSAL", "D", "BLOCK_M", "BLOCK_N", "PRECISION")})
    return sig


@pytest.mark.parametrize("dtype,dt", [(torch.bfloat16, "bf16"), (torch.float32, "fp32")])
@pytest.mark.parametrize("name", ["_fwd_kernel", "_bwd_dkdv_kernel", "_bwd_dq_kernel"])
def test_attention_kernel_compiles_for_sm90(name, dtype, dt, monkeypatch):
    monkeypatch.setenv("TRITON_INTERPRET", "0")  # before the kernels' first import
    import triton
    from hubkit.kernels.attention import v1_flash as m
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    if type(m._fwd_kernel).__name__ == "InterpretedFunction":
        pytest.skip("the kernels were imported interpreted in this process; run this file alone")

    from hubkit.kernels.attention import configs

    sets = {"_fwd_kernel": configs.FWD, "_bwd_dkdv_kernel": configs.DKDV,
            "_bwd_dq_kernel": configs.DQ}[name]
    kind, prec = ("16bit", "tf32") if dtype == torch.bfloat16 else ("ieee", "ieee")
    cfg = sets.per_arch[("sm_90", kind, 128)][0]  # the first config autotune tries on an H100
    consts = {"CAUSAL": True, "D": 128, "PRECISION": prec, **cfg.kwargs}
    src = ASTSource(fn=getattr(m, name), signature=_signature(name, dt), constexprs=consts)
    kernel = triton.compile(src, target=GPUTarget("cuda", 90, 32),
                            options={"num_warps": cfg.num_warps, "num_stages": cfg.num_stages})
    assert kernel.metadata.shared <= 227 * 1024
