"""Launch-time choices shared by the Triton kernels: dot precision, config sets per GPU, buckets.

* `dot_precision`: float32 inputs take TF32 tensor-core dots only where the caller allows
  TF32 the way torch does (`torch.backends.cuda.matmul.allow_tf32`, or
  `torch.set_float32_matmul_precision("high" | "medium")`); otherwise exact IEEE float32.
  16-bit inputs always run on tensor cores ("tf32" is ignored for them).
* `ConfigSets`: the `triton.autotune` configs of one kernel, one list per GPU architecture
  (sm_80 = A100, sm_90 = H100/H200), per input kind and per size class; other GPUs get a
  plain fallback (one conservative config) and the CPU interpreter a single small one.
  `benchmarks/gpu_static.py` compiles exactly these lists for sm_80 and sm_90 and
  records registers and spills; the lists keep only configs without spills (one
  explained exception: exact-fp32 LoRA at rank 128, see kernels/lora/configs.py).
  Under TRITON_INTERPRET=1 the prune hook keeps the single `interpreter` config, so
  autotune never benchmarks and tests run exactly one launch per call.
* `bucket`: a power-of-two bucket of a length, so autotuning runs once per bucket
  rather than once per distinct sequence length or row count.

Example:
    >>> import torch
    >>> pick_precision(torch.float32, allow_tf32=False, matmul_precision="highest")
    'ieee'
    >>> pick_precision(torch.float32, allow_tf32=False, matmul_precision="high")
    'tf32'
    >>> bucket(1000), bucket(3)
    (1024, 16)
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import triton

ARCHS = ("sm_80", "sm_90")
KINDS = ("16bit", "tf32", "ieee")  # bf16/fp16 inputs; fp32 with TF32 dots; fp32 IEEE dots


def interpreting() -> bool:
    """True when Triton runs kernels on the CPU (TRITON_INTERPRET=1)."""
    return os.environ.get("TRITON_INTERPRET") == "1"


def pick_precision(dtype: torch.dtype, allow_tf32: bool, matmul_precision: str) -> str:
    """tl.dot input_precision: "tf32" unless float32 inputs must stay exact ("ieee")."""
    if dtype != torch.float32:
        return "tf32"  # 16-bit dots use tensor cores whatever this says
    return "tf32" if allow_tf32 or matmul_precision in ("high", "medium") else "ieee"


def dot_precision(dtype: torch.dtype) -> str:
    """`pick_precision` with torch's current TF32 settings (read at every launch)."""
    return pick_precision(dtype, torch.backends.cuda.matmul.allow_tf32,
                          torch.get_float32_matmul_precision())


def kind(dtype: torch.dtype, precision: str) -> str:
    """Which config list a launch uses: "16bit", "tf32" or "ieee" (see KINDS)."""
    if dtype != torch.float32:
        return "16bit"
    return "ieee" if precision == "ieee" else "tf32"


def arch(device: torch.device) -> str:
    """"sm_80" (A100), "sm_90" (H100/H200) or "other" (the fallback list) for a CUDA device."""
    major, minor = torch.cuda.get_device_capability(device)
    # subtle: sm_86/sm_89 report major 8 but have ~100 KB of shared memory per SM, not
    # A100's 164 KB, so only (8, 0) takes the sm_80 list.
    return {(8, 0): "sm_80"}.get((major, minor), "sm_90" if major == 9 else "other")


def bucket(n: int, lo: int = 16, hi: int = 1 << 16) -> int:
    """Next power of two of n, clamped to [lo, hi]: the autotune key for a length."""
    return min(hi, max(lo, triton.next_power_of_2(n)))


def config(num_warps: int | None = None, num_stages: int | None = None, **meta) -> triton.Config:
    """A triton.Config from keyword arguments (block sizes) and launch options."""
    opts = {k: v for k, v in (("num_warps", num_warps), ("num_stages", num_stages)) if v}
    return triton.Config(meta, **opts)


@dataclass
class ConfigSets:
    """Autotune configs of one kernel: per (arch, kind, size class), and one for the CPU.

    `per_arch[(arch, kind, size)]` lists the configs an sm_80 or sm_90 GPU tries. Any
    other GPU (sm_86, sm_89, sm_75, ...) runs the last sm_80 config of its key alone: each
    list ends with its most conservative config (least shared memory). `interpreter` is
    the one config the CPU interpreter runs, so autotuning never multiplies test time.
    """

    per_arch: dict[tuple[str, str, int], list[triton.Config]]
    interpreter: triton.Config

    def select(self, gpu: str, kind_: str, size: int) -> list[triton.Config]:
        """The configs a launch on `gpu` ("sm_80", "sm_90", "other" or "cpu") tries."""
        if gpu == "cpu":
            return [self.interpreter]
        if gpu == "other":
            return self.per_arch[("sm_80", kind_, size)][-1:]
        return self.per_arch[(gpu, kind_, size)]

    def union(self) -> list[triton.Config]:
        """Every config once (the list given to triton.autotune; the prune hook narrows it)."""
        out: list[triton.Config] = [self.interpreter]
        for configs in self.per_arch.values():
            out += [c for c in configs if c not in out]
        return out

    def prune_hook(self, where):
        """An `early_config_prune` keeping the configs of `where(args) -> (gpu, kind, size)`."""
        def prune(configs, named_args, **kwargs):
            wanted = self.select(*where({**named_args, **kwargs}))
            return [c for c in configs if c in wanted]
        return prune


def device_class(t: torch.Tensor) -> str:
    """"cpu" under the interpreter (or for CPU tensors), else the GPU's arch()."""
    return "cpu" if interpreting() or not t.is_cuda else arch(t.device)


def autotuned(kernel, sets: ConfigSets, key: list[str], where):
    """`triton.autotune` over `sets`, pruned per launch to the list `where(args)` names."""
    return triton.autotune(configs=sets.union(), key=key,
                           prune_configs_by={"early_config_prune": sets.prune_hook(where)})(kernel)
