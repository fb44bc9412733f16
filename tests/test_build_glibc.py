"""The compiled modules import on glibc 2.28 (manylinux_2_28, RHEL 8, Debian 10).

Reads the glibc symbol versions each built module needs from its dynamic
symbol table (`objdump -T`) and fails if one is newer than 2.28. This once
failed on libmvec's erf (GLIBC_2.35), which csrc/vector_math.cpp now looks up
at run time, and on symbols a newer glibc re-versioned (csrc/glibc_compat.h).
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess

import pytest

from hubkit import _ext

GLIBC_FLOOR = (2, 28)
# An undefined symbol with its version, as `objdump -T` prints it:
# 0000000000000000      DF *UND*  0000000000000000 (GLIBC_2.34) dlsym
UNDEFINED = re.compile(r"\*UND\*\s+\S+\s+\(?GLIBC_([0-9.]+)\)?\s+(\S+)\s*$")


def glibc_requirements(objdump_text: str) -> dict[str, tuple[int, ...]]:
    """Map each undefined symbol to the glibc version it needs, from `objdump -T` output."""
    needs = {}
    for line in objdump_text.splitlines():
        if m := UNDEFINED.search(line):
            needs[m.group(2)] = tuple(int(p) for p in m.group(1).split("."))
    return needs


# Symbols that live outside libc before glibc 2.34, and the library that has them there.
MOVED_INTO_LIBC = {"dlopen": "libdl.so.2", "dlsym": "libdl.so.2",
                   "pthread_once": "libpthread.so.0"}


def _needed(path: str) -> set[str]:
    """The sonames `path` depends on (DT_NEEDED), from `readelf -d`."""
    out = subprocess.run(["readelf", "-d", path], capture_output=True, text=True, check=True)
    return set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out.stdout))


def _module_path(name: str) -> str:
    spec = importlib.util.find_spec(f"hubkit.{name}")
    if spec is None or spec.origin is None:
        pytest.skip(f"hubkit.{name} was not built here: {_ext.load_error(name)}")
    return spec.origin


def test_glibc_requirements_parses_objdump_lines():
    text = ("0000000000000000      DF *UND*\t0000000000000000 (GLIBC_2.35) _ZGVeN16v_erff\n"
            "0000000000000000      DF *UND*\t0000000000000000  GLIBC_2.2.5 memcpy\n"
            "0000000000001234 g    DF .text\t0000000000000010  Base        PyInit__C\n")
    assert glibc_requirements(text) == {"_ZGVeN16v_erff": (2, 35), "memcpy": (2, 2, 5)}


@pytest.mark.skipif(shutil.which("objdump") is None, reason="needs objdump (binutils)")
@pytest.mark.parametrize("module", ["_C", "_mujoco"])
def test_compiled_module_needs_no_glibc_newer_than_2_28(module):
    path = _module_path(module)
    out = subprocess.run(["objdump", "-T", path], capture_output=True, text=True, check=True)
    needs = glibc_requirements(out.stdout)
    assert needs, f"no glibc symbols found in {path}: is this a glibc build?"
    too_new = {sym: ".".join(map(str, v)) for sym, v in needs.items() if v > GLIBC_FLOOR}
    assert not too_new, f"hubkit.{module} needs glibc newer than 2.28: {too_new}"


@pytest.mark.skipif(shutil.which("readelf") is None, reason="needs readelf (binutils)")
@pytest.mark.skipif(shutil.which("objdump") is None, reason="needs objdump (binutils)")
@pytest.mark.parametrize("module", ["_C", "_mujoco"])
def test_compiled_module_links_where_old_glibc_keeps_dlopen_and_pthread_once(module):
    path = _module_path(module)
    out = subprocess.run(["objdump", "-T", path], capture_output=True, text=True, check=True)
    wanted = {MOVED_INTO_LIBC[sym] for sym in glibc_requirements(out.stdout)
              if sym in MOVED_INTO_LIBC}
    assert wanted <= _needed(path), f"hubkit.{module} uses symbols of {wanted} without linking them"


WRAPPER = r'''
#include <cstdint>
#include "bias_gelu/bias_gelu.h"
extern "C" void forward(std::uintptr_t x, std::uintptr_t b, std::uintptr_t y,
                        std::int64_t rows, std::int64_t cols, int dtype) {
  hubkit::bias_gelu_forward_cpu(x, b, y, rows, cols, dtype);
}
extern "C" void backward(std::uintptr_t g, std::uintptr_t x, std::uintptr_t b, std::uintptr_t gx,
                         std::int64_t rows, std::int64_t cols, int dtype) {
  hubkit::bias_gelu_backward_cpu(g, x, b, gx, rows, cols, dtype);
}
'''


@pytest.fixture(scope="module")
def bias_gelu_without_libmvec(tmp_path_factory):
    """The bias_gelu kernels built as on a glibc with no libmvec erf (the lane-by-lane path)."""
    import ctypes
    from pathlib import Path

    cxx = shutil.which("g++")
    if cxx is None:
        pytest.skip("needs g++ (the fallback is GCC's vector ABI)")
    csrc = Path(__file__).resolve().parent.parent / "csrc"
    out = tmp_path_factory.mktemp("fallback")
    (out / "wrapper.cpp").write_text(WRAPPER)
    cmd = [cxx, "-O3", "-fopenmp-simd", "-std=c++17", "-shared", "-fPIC", "-fno-math-errno",
           f"-I{csrc}",
           '-DHUBKIT_LIBMVEC="libmvec-absent.so.1"', str(csrc / "bias_gelu" / "bias_gelu.cpp"),
           str(csrc / "vector_math.cpp"), str(out / "wrapper.cpp"), "-o", str(out / "k.so"),
           "-ldl"]
    subprocess.run(cmd, check=True, capture_output=True, timeout=600)
    lib = ctypes.CDLL(str(out / "k.so"))
    lib.forward.argtypes = [ctypes.c_size_t] * 3 + [ctypes.c_int64] * 2 + [ctypes.c_int]
    lib.backward.argtypes = [ctypes.c_size_t] * 4 + [ctypes.c_int64] * 2 + [ctypes.c_int]
    return lib


@pytest.mark.parametrize(("dtype", "tol"), [("float32", 1e-5), ("float64", 1e-12)])
def test_bias_gelu_without_libmvec_erf_matches_float64(bias_gelu_without_libmvec, dtype, tol):
    import torch

    from hubkit.activations import reference

    lib, code = bias_gelu_without_libmvec, _ext.DTYPE_CODES[getattr(torch, dtype)]
    gen = torch.Generator().manual_seed(0)
    rows, cols = 7, 1029  # odd: vector body and scalar tail
    x = torch.randn(rows, cols, generator=gen, dtype=torch.float64) * 3 + 0.5
    b, g = torch.randn(cols, generator=gen, dtype=torch.float64), torch.randn_like(x)
    xr = x.clone().requires_grad_()
    y_ref = reference.bias_gelu_reference(xr, b)
    (gx_ref,) = torch.autograd.grad(y_ref, xr, g)
    xs, bs, gs = (t.to(getattr(torch, dtype)) for t in (x, b, g))
    y, gx = torch.empty_like(xs), torch.empty_like(xs)
    lib.forward(xs.data_ptr(), bs.data_ptr(), y.data_ptr(), rows, cols, code)
    lib.backward(gs.data_ptr(), xs.data_ptr(), bs.data_ptr(), gx.data_ptr(), rows, cols, code)
    for got, want in ((y, y_ref.detach()), (gx, gx_ref)):
        err = (got.double() - want).abs().max() / want.abs().max()
        assert err < tol, f"{dtype}: max error {err:.2e} relative to the output scale"
