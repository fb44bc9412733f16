"""Build fallbacks: no C++ compiler still installs; HUBKIT_CUDA=ON without nvcc fails loudly.

Both build a wheel from the source tree without compiling anything (seconds).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def _build_wheel(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **env, "SKBUILD_BUILD_DIR": str(tmp_path / "build")}
    return subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps",
         "-w", str(tmp_path / "dist"), str(ROOT)],
        capture_output=True, text=True, env=full_env, timeout=900)


def test_wheel_without_a_cpp_compiler_installs_reference_backends_only(tmp_path):
    res = _build_wheel(tmp_path, CXX="/nonexistent/c++", CUDACXX="/nonexistent/nvcc")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    wheel = next((tmp_path / "dist").glob("hubkit_learn-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        info = json.loads(zf.read("hubkit/_build_info.json"))
        metadata = zf.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    # the distribution is hubkit-learn ("hubkit" on the index is another project)
    assert "\nName: hubkit-learn\n" in metadata
    assert info["cpp"] == "no C++ compiler found at build time"
    assert not any(n.startswith("hubkit/_C") for n in names)
    assert "hubkit/kernels/bias_gelu/v1_elementwise.py" in names


def test_hubkit_cuda_on_without_nvcc_fails_loudly(tmp_path):
    res = _build_wheel(tmp_path, HUBKIT_CUDA="ON", CUDACXX="/nonexistent/nvcc",
                       PATH="/usr/bin:/bin:" + os.path.dirname(sys.executable))
    assert res.returncode != 0
    assert "HUBKIT_CUDA=ON but no CUDA compiler" in res.stdout + res.stderr
