"""Package-level promises: what `import hubkit` loads, and what the build recorded."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

import hubkit
from hubkit import _backend, _ext

HEAVY = ("triton", "mujoco", "gymnasium", "transformers", "sklearn", "matplotlib", "peft")


def test_import_hubkit_does_not_import_heavy_optional_packages():
    code = ("import sys, json, hubkit, hubkit.ops, hubkit.nn; "
            f"print(json.dumps([m for m in sys.modules if m.split('.')[0] in {HEAVY!r}]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_cpp_backend_is_built_and_listed():
    info = _ext.build_info()
    if info.get("cpp") != "built":
        pytest.skip(f"C++ extension not built here: {info.get('cpp')}")
    assert "cpp" in hubkit.ops.available_backends()
    assert _ext.cpp_module().num_threads() >= 1


def test_cuda_module_imports_without_a_driver_when_built():
    if not _ext.build_info().get("cuda", "").startswith("built"):
        pytest.skip("hubkit._cuda not built here")
    mod = _ext.cuda_module()
    assert mod is not None, _ext.load_error("_cuda")
    assert mod.device_count() == torch.cuda.device_count()
    assert "cuda" in hubkit.ops.available_backends()
    assert (_backend.device_reason("cuda") is None) == torch.cuda.is_available()


def test_build_info_says_sm80_and_sm90_when_cuda_built():
    cuda = _ext.build_info().get("cuda", "")
    if not cuda.startswith("built"):
        pytest.skip("hubkit._cuda not built here")
    assert "sm_80" in cuda and "sm_90" in cuda


def test_reference_backend_is_always_available():
    assert hubkit.ops.available_backends()[0] == "reference"


def test_every_unavailable_backend_has_a_reason_that_says_how_to_get_it():
    for name in _backend.BACKENDS:
        reason = _backend.unavailable_reason(name)
        assert (reason is None) == (name in hubkit.ops.available_backends())
        if reason is not None:
            assert any(w in reason for w in ("install", "Install")), reason


@pytest.mark.parametrize("name, module", [("cpp", "cpp_module"), ("cuda", "cuda_module")])
def test_a_missing_extension_says_to_reinstall_hubkit_learn_not_the_unrelated_hubkit(
        monkeypatch, name, module):
    monkeypatch.setattr(_ext, module, lambda: None)
    reason = _backend.unavailable_reason(name)
    assert "--no-deps hubkit-learn`" in reason and "--no-deps .`" in reason
    assert "--no-deps hubkit`" not in reason


def test_use_backend_rejects_unknown_names():
    with pytest.raises(ValueError, match="backend must be one of"):
        with hubkit.ops.use_backend("fortran"):
            pass


def test_use_backend_context_is_restored_after_an_error():
    with pytest.raises(RuntimeError):
        with hubkit.ops.use_backend("reference"):
            raise RuntimeError("boom")
    assert _backend.forced_backend() is None


def test_kernels_package_is_importable():
    import importlib.util

    assert importlib.util.find_spec("hubkit.kernels") is not None


def test_version_is_set():
    assert hubkit.__version__ and hubkit.__version__ != "0.0.0+source"
