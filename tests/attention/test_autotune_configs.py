"""Autotune config sets of the Triton attention and LoRA kernels, checked on CPU.

What a GPU would do is decided by plain Python (which list an arch gets, which dot
precision float32 takes, the autotune keys) and is tested here without one. The
compile-time evidence (zero spills per config) comes from benchmarks/gpu_static.py,
which must enumerate exactly these lists.
"""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("triton")

from hubkit.kernels import tuning  # noqa: E402
from hubkit.kernels.attention import configs as att  # noqa: E402
from hubkit.kernels.lora import configs as lora  # noqa: E402

SETS = {"attention fwd": (att.FWD, att.HEAD_DIM_CLASSES),
        "attention dq": (att.DQ, att.HEAD_DIM_CLASSES),
        "attention dkdv": (att.DKDV, att.HEAD_DIM_CLASSES),
        "lora forward": (lora.FORWARD, lora.RANK_CLASSES),
        "lora grad_x": (lora.GRAD_X, lora.RANK_CLASSES)}


class _FakeCuda:
    """Stands in for a CUDA tensor in a prune hook: only .is_cuda, .device and .dtype are read."""

    is_cuda = True
    device = torch.device("cuda", 0)

    def __init__(self, dtype: torch.dtype) -> None:
        self.dtype = dtype


@pytest.mark.parametrize("name", SETS)
def test_every_arch_kind_and_size_has_a_non_empty_config_list(name):
    sets, sizes = SETS[name]
    for arch in tuning.ARCHS:
        for kind in tuning.KINDS:
            for size in sizes:
                configs = sets.select(arch, kind, size)
                assert configs, (arch, kind, size)
                assert len(set(map(str, configs))) == len(configs), "duplicate config"
                assert all(c.num_warps in (4, 8) for c in configs)


@pytest.mark.parametrize("name", SETS)
def test_other_gpus_fall_back_to_one_config_of_the_sm80_list(name):
    sets, sizes = SETS[name]
    for kind in tuning.KINDS:
        for size in sizes:
            (fallback,) = sets.select("other", kind, size)
            assert fallback in sets.select("sm_80", kind, size)


@pytest.mark.parametrize("cap,arch", [((8, 0), "sm_80"), ((9, 0), "sm_90"), ((8, 6), "other"),
                                      ((8, 9), "other"), ((7, 5), "other"), ((10, 0), "other")])
def test_arch_is_chosen_from_the_device_capability(monkeypatch, cap, arch):
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: cap)
    assert tuning.arch(torch.device("cuda", 0)) == arch


def test_attention_prune_hook_picks_the_list_of_the_arch_dtype_and_head_dim(monkeypatch):
    from hubkit.kernels.attention import v1_flash as m

    monkeypatch.setenv("TRITON_INTERPRET", "0")  # read at launch: pretend a real GPU launch
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (9, 0))
    hook = att.FWD.prune_hook(m._where)
    args = {"q_ptr": _FakeCuda(torch.bfloat16), "D": 128, "PRECISION": "tf32"}
    assert hook(att.FWD.union(), args) == att.FWD.per_arch[("sm_90", "16bit", 128)]
    args = {"q_ptr": _FakeCuda(torch.float32), "D": 32, "PRECISION": "ieee"}
    assert hook(att.FWD.union(), args) == att.FWD.per_arch[("sm_90", "ieee", 64)]


def test_interpreter_runs_exactly_one_config(gen):
    from hubkit.kernels.attention import v1_flash as m

    if not tuning.interpreting():
        pytest.skip("checks the CPU interpreter")
    for sets in (att.FWD, att.DQ, att.DKDV):
        hook = sets.prune_hook(m._where)
        args = {"q_ptr": torch.zeros(1), "D": 64, "PRECISION": "ieee"}
        assert hook(sets.union(), args) == [sets.interpreter]
    q, k, v = (torch.randn(1, 1, 20, 16, generator=gen) for _ in range(3))
    m.attention_forward(q, k, v, causal=True, scale=0.25)
    assert m._fwd.best_config == att.FWD.interpreter
    assert not hasattr(m._fwd, "bench_time"), "the interpreter benchmarked configs"


def test_attention_and_lora_autotune_keys():
    from hubkit.kernels.attention import v1_flash as m
    from hubkit.kernels.lora import v1_fused as f

    for tuned in (m._fwd, m._bwd_dkdv, m._bwd_dq):
        assert set(tuned.keys) == {"D", "CAUSAL", "T_BUCKET", "PRECISION"}
    for tuned in (f._forward, f._grad_x):
        assert set(tuned.keys) == {"M_BUCKET", "N", "K", "BLOCK_R", "PRECISION"}


def test_sequence_length_bucket_is_a_clamped_power_of_two():
    assert [tuning.bucket(t) for t in (1, 16, 17, 1000, 4096, 10**9)] == [
        16, 16, 32, 1024, 4096, 1 << 16]


@pytest.mark.parametrize("dtype,allow,precision,want", [
    (torch.float32, False, "highest", "ieee"),
    (torch.float32, True, "highest", "tf32"),
    (torch.float32, False, "high", "tf32"),
    (torch.float32, False, "medium", "tf32"),
    (torch.bfloat16, False, "highest", "tf32"),
    (torch.float16, False, "highest", "tf32"),
])
def test_float32_takes_tf32_only_where_the_caller_allows_it(dtype, allow, precision, want):
    assert tuning.pick_precision(dtype, allow_tf32=allow, matmul_precision=precision) == want


def test_dot_precision_follows_torch_settings():
    before = torch.get_float32_matmul_precision()
    try:
        torch.set_float32_matmul_precision("highest")
        assert tuning.dot_precision(torch.float32) == "ieee"
        torch.set_float32_matmul_precision("high")
        assert tuning.dot_precision(torch.float32) == "tf32"
    finally:
        torch.set_float32_matmul_precision(before)
    assert tuning.kind(torch.float32, "ieee") == "ieee"
    assert tuning.kind(torch.float32, "tf32") == "tf32"
    assert tuning.kind(torch.bfloat16, "tf32") == "16bit"


def _name(kernel) -> str:
    return f"{kernel.fn.__module__}.{kernel.fn.__name__}"


def _shipped(arch: str) -> set:
    """(kernel, precision, size, config) of every shipped attention/LoRA autotune config."""
    from hubkit.kernels.attention import v1_flash as m
    from hubkit.kernels.lora import v1_fused as f

    kernels = {"attention fwd": m._fwd_kernel, "attention dq": m._bwd_dq_kernel,
               "attention dkdv": m._bwd_dkdv_kernel, "lora forward": f._forward_kernel,
               "lora grad_x": f._grad_x_kernel}
    out = set()
    for name, (sets, sizes) in SETS.items():
        for kind in tuning.KINDS:
            prec = "ieee" if kind == "ieee" else "tf32"
            for size in sizes:
                for c in sets.select(arch, kind, size):
                    out.add((_name(kernels[name]), prec, size,
                             (tuple(sorted(c.kwargs.items())), c.num_warps, c.num_stages)))
    return out


@pytest.mark.parametrize("cap", [80, 90])
def test_gpu_static_enumerates_exactly_the_shipped_sets(cap):
    import benchmarks.gpu_static as gs

    shipped = _shipped(f"sm_{cap}")
    autotuned = {name for name, *_ in shipped}
    size_key = {"v1_flash": "D", "v1_fused": "BLOCK_R"}  # the size-class constexpr
    launch = ("num_warps", "num_stages", "CAUSAL", "PRECISION", "HAS_BIAS", "GROUP_M",
              *size_key.values())
    found = set()
    for fn, _dtype, cfg in gs.triton_specs(cap):
        if _name(fn) not in autotuned:
            continue
        meta = tuple(sorted((k, v) for k, v in cfg.items() if k not in launch))
        size = cfg[size_key[fn.fn.__module__.rsplit(".", 1)[-1]]]
        found.add((_name(fn), cfg["PRECISION"], size,
                   (meta, cfg["num_warps"], cfg["num_stages"])))
    assert found == shipped
