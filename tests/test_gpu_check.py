"""The GPU check works on first contact: its dry run collects every GPU test and benchmark.

`benchmarks/gpu_check.py --dry-run` (what `gpu_check.sh --dry-run --no-build` runs) is
driven here on CPU with mujoco and gymnasium blocked as on the GPU image; the CUDA
build half of the shell script is too slow for a test and is left to the script.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks import gpu_check  # noqa: E402

TRACKS = ("attention", "bias_gelu", "conv2d", "linear_cross_entropy", "lora")


def _gpu_marked_test_files() -> set[str]:
    """Test files whose source marks something `gpu` (what collection must find)."""
    return {str(p.relative_to(ROOT)) for p in (ROOT / "tests").rglob("test_*.py")
            if "mark.gpu" in p.read_text() and p.name != Path(__file__).name}


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpu-check")
    res = subprocess.run([sys.executable, "benchmarks/gpu_check.py", "--dry-run", "--out",
                          str(out)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    (path,) = out.glob("gpu-dry-run-*.json")
    return json.loads(path.read_text())


@pytest.mark.slow
def test_dry_run_lists_every_gpu_test_as_skipped_for_want_of_a_device(dry_run):
    tests = dry_run["gpu_tests"]["tests"]
    assert all(t["skipped"] == "no device" for t in tests)
    files = {t["nodeid"].split("::")[0] for t in tests}
    assert _gpu_marked_test_files() <= files, _gpu_marked_test_files() - files


@pytest.mark.slow
def test_dry_run_lists_every_gpu_benchmark_of_every_track(dry_run):
    rows = dry_run["benchmarks"]
    assert all(r["skipped"] == "no device" and r["median_ms"] is None for r in rows)
    for track in TRACKS:
        assert any(f"bench_{track}.py::" in r["name"] and "[cuda-" in r["name"]
                   for r in rows), track
    assert dry_run["dry_run"] and "provenance" in dry_run


@pytest.mark.slow
def test_dry_run_collection_never_imports_what_the_gpu_image_lacks(dry_run):
    # A blocked import inside a GPU test's module would have dropped its tests above;
    # modules without GPU tests may try (and be skipped), but none may break the session.
    assert dry_run["gpu_tests"]["exit_code"] in (0, 1, 2, 5)
    for path in dry_run["gpu_tests"]["collection_errors"]:
        assert "mark.gpu" not in (ROOT / path).read_text(), path


def test_blocked_imports_fail_and_are_logged(tmp_path):
    test = tmp_path / "test_uses_gym.py"
    test.write_text("import gymnasium\n\ndef test_x():\n    pass\n")
    log = tmp_path / "blocked.txt"
    run, text = gpu_check._pytest(["-c", os.devnull, "--rootdir", str(tmp_path), str(test)],
                                  timeout=120, log=log)
    assert run["exit_code"] != 0 and "blocked: not on the GPU image" in text
    assert log.read_text().split() == ["gymnasium"]


def test_peak_table_matches_device_names_most_specific_first():
    assert gpu_check.peak_table("NVIDIA H200")["bfloat16"] == 989.4
    assert gpu_check.peak_table("NVIDIA H100 PCIe")["bfloat16"] == 756.0
    assert gpu_check.peak_table("NVIDIA A100-SXM4-80GB")["tfloat32"] == 156.0
    assert gpu_check.peak_table("Tesla T4") is None and gpu_check.peak_table(None) is None


def test_benchmark_rows_get_tflops_and_fraction_of_peak():
    raw = {"benchmarks": [{"name": "test_lora_linear_forward[cuda-M8192-r16-unfused]",
                           "group": "g", "params": {"shape": [8192, 4096, 4096, 16]},
                           "stats": {"median": 1e-3, "iqr": 0.0, "rounds": 3},
                           "extra_info": {"provider": "unfused"}}]}
    (row,) = gpu_check._benchmarks(raw, gpu_check.PEAK_TFLOPS["H200"])
    flops = 2.0 * 8192 * (4096 * 4096 + 4096 * 16 + 16 * 4096)
    assert row["tflops"] == round(flops / 1e-3 / 1e12, 2)
    assert row["fraction_of_peak"] == round(row["tflops"] / 989.4, 3)



def test_real_run_fails_only_on_gpu_test_failures_not_on_modules_the_image_cannot_import():
    broken = "tests/rl/test_rollout.py"
    tests = {"exit_code": 1, "counts": {"passed": 1}, "collection_errors": [broken],
             "tests": [{"nodeid": f"{broken}::", "outcome": "error"},
                       {"nodeid": "tests/cnn/test_conv2d_op.py::test_a", "outcome": "passed"}]}
    report = {"dry_run": False, "gpu_bench_runs": [], "gpu_tests": tests}
    assert gpu_check._exit_code(report) == 0
    tests["tests"].append({"nodeid": "tests/cnn/test_conv2d_op.py::test_b", "outcome": "failed"})
    assert gpu_check._exit_code(report) == 1


def test_static_table_parses_ptxas_and_computes_occupancy():
    from benchmarks import gpu_static

    text = ("ptxas info    : Compiling entry function '_Z1kPf' for 'sm_90'\n"
            "ptxas info    : Function properties for _Z1kPf\n"
            "    8 bytes stack frame, 4 bytes spill stores, 4 bytes spill loads\n"
            "ptxas info    : Used 128 registers, used 1 barriers, 4096 bytes smem\n")
    (row,) = gpu_static.parse_ptxas(text)
    assert (row["registers"], row["spill_stores"], row["smem"]) == (128, 4, 4096)
    # 128 regs x 256 threads = 32K registers: two blocks fill the 64K file, 16 of 64 warps
    occ = gpu_static.occupancy(90, 128, 4096, 256)
    assert (occ["blocks_per_sm"], occ["occupancy"], occ["limited_by"]) == (2, 0.25, "registers")
    # 100 KB of shared memory: one block on sm_80 (164 KB), two on sm_90 (228 KB)
    assert gpu_static.occupancy(80, 32, 100 * 1024, 128)["blocks_per_sm"] == 1
    assert gpu_static.occupancy(90, 32, 100 * 1024, 128)["blocks_per_sm"] == 2
