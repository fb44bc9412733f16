"""cuda and triton exercises: how the checker builds and runs them on this machine."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from hubkit.check.exercises import load_exercise
from hubkit.check.runner import run_check

CUDA_FILES = {
    "exercise.toml": '''id = "scale_cuda"
title = "y = 2x in CUDA"
section = "1.1"
kind = "cuda"
implements = "2 * x"
files = ["scale.cu"]
support = ["scale.h", "bindings.cpp"]
entry = "scale"
timeout = 120
hints = ["one thread per element"]
''',
    "support/scale.h": '''#pragma once
#include <cstdint>
void scale(std::uintptr_t x, std::uintptr_t out, std::int64_t n, std::uintptr_t stream);
''',
    "support/bindings.cpp": '''#include <pybind11/pybind11.h>
#include "scale.h"
PYBIND11_MODULE(HUBKIT_MODULE, m) { m.def("scale", &scale); }
''',
    "solution/scale.cu": '''#include "scale.h"
#include <cuda_runtime.h>
#include <stdexcept>
__global__ void scale_kernel(const float* x, float* y, std::int64_t n) {
  std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) y[i] = 2.0f * x[i];
}
void scale(std::uintptr_t x, std::uintptr_t out, std::int64_t n, std::uintptr_t stream) {
  // BEGIN SOLUTION
  scale_kernel<<<(n + 255) / 256, 256, 0, reinterpret_cast<cudaStream_t>(stream)>>>(
      reinterpret_cast<const float*>(x), reinterpret_cast<float*>(out), n);
  // END SOLUTION
}
''',
    "spec.py": '''import torch
from hubkit.check import Case, OpSpec, randn

def cases(ctx):
    return [Case("x(1000)", {"x": randn(ctx, 1000)}), Case("x(3)", {"x": randn(ctx, 3)})]

def call(learner, ctx, x):
    out = ctx.empty_like(x)
    learner.scale(x.data_ptr(), out.data_ptr(), x.numel(), torch.cuda.current_stream().cuda_stream)
    return out

SPEC = OpSpec(reference=lambda x: 2 * x, cases=cases, call=call)
''',
}

TRITON_FILES = {
    "exercise.toml": '''id = "scale_triton"
title = "y = 2x in Triton"
section = "1.1"
kind = "triton"
implements = "2 * x"
files = ["scale.py"]
entry = "scale"
timeout = 120
hints = ["mask the tail"]
''',
    "solution/scale.py": '''import torch
import triton
import triton.language as tl

@triton.jit
def _double(v):
    return 2.0 * v

@triton.jit
def _kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(y_ptr + offs, _double(tl.load(x_ptr + offs, mask=mask)), mask=mask)

def scale(x):
    # BEGIN SOLUTION
    x = x.contiguous()
    y = torch.empty_like(x)
    _kernel[(triton.cdiv(x.numel(), 64),)](x, y, x.numel(), BLOCK=64)
    return y
    # END SOLUTION
''',
    "spec.py": '''from hubkit.check import Case, OpSpec, randn

def cases(ctx):
    return [Case("x(100)", {"x": randn(ctx, 100)}), Case("x(7, 9)", {"x": randn(ctx, 7, 9)})]

SPEC = OpSpec(reference=lambda x: 2 * x, cases=cases, forbidden=("aten::mul",))
''',
}


def _write(root: Path, files: dict[str, str]):
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "README.md").write_text("synthetic")
    return load_exercise(root)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("nvcc") is None, reason="needs nvcc")
def test_cuda_exercise_compiles_and_reports_not_run_without_a_device(tmp_path):
    ex = _write(tmp_path / "scale_cuda", CUDA_FILES)
    result = run_check(ex, ex.solution_files(), fast=True, timing=False)
    if torch.cuda.is_available():
        assert result.status == "pass", result.message
    else:
        assert result.status == "not_run"
        assert result.message == "compiled; not run: no CUDA device"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("nvcc") is None, reason="needs nvcc")
def test_cuda_compile_error_is_shown_with_file_and_line(tmp_path):
    ex = _write(tmp_path / "scale_cuda", CUDA_FILES)
    broken = tmp_path / "scale.cu"
    broken.write_text(CUDA_FILES["solution/scale.cu"].replace("2.0f * x[i];", "2.0f * x[i]"))
    result = run_check(ex, {"scale.cu": broken}, fast=True, timing=False)
    assert result.status == "compile_error"
    assert f"{broken}(" in result.message or f"{broken}:" in result.message


@pytest.mark.triton
def test_triton_exercise_runs_interpreted_on_cpu(tmp_path):
    ex = _write(tmp_path / "scale_triton", TRITON_FILES)
    result = run_check(ex, ex.solution_files(), fast=True, timing=True)
    assert result.status == "pass", result.message + result.output
    if not torch.cuda.is_available():
        assert result.backend == "triton-interp"
        assert result.timings is None  # speed is only reported on a GPU


@pytest.mark.gpu
def test_cuda_exercise_passes_and_is_timed_on_a_gpu(tmp_path):
    ex = _write(tmp_path / "scale_cuda", CUDA_FILES)
    result = run_check(ex, ex.solution_files(), fast=True, timing=True)
    assert result.status == "pass", result.message + result.output
    assert result.timings["speedup_vs_reference"] > 0
    assert result.machine["gpu"]


@pytest.mark.gpu
def test_cuda_out_of_bounds_write_is_a_verdict_and_the_next_check_runs(tmp_path):
    ex = _write(tmp_path / "scale_cuda", CUDA_FILES)
    bad = tmp_path / "scale.cu"
    bad.write_text(CUDA_FILES["solution/scale.cu"].replace(
        "if (i < n) y[i] = 2.0f * x[i];", "y[i + (std::int64_t(1) << 34)] = 2.0f * x[i];"))
    result = run_check(ex, {"scale.cu": bad}, fast=True, timing=False)
    assert result.status in ("error", "crash", "fail"), result.message
    assert result.status != "pass"
    assert run_check(ex, ex.solution_files(), fast=True, timing=False).status == "pass"


@pytest.mark.triton
def test_triton_exercise_runs_from_a_shell_without_triton_interpret(tmp_path):
    import os
    import subprocess
    import sys

    _write(tmp_path / "exercises" / "scale_triton", TRITON_FILES)
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    env["HUBKIT_EXERCISES"] = str(tmp_path / "exercises")
    proc = subprocess.run([sys.executable, "-m", "hubkit.cli", "check", "scale_triton",
                           "--solution", "--fast", "--no-time"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASS" in proc.stdout
