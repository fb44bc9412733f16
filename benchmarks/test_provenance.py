"""The provenance every results file carries, and the check that a provider runs what it says.

Run: `pytest benchmarks/test_provenance.py -q` (no benchmark is timed).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import hubkit
from benchmarks import provenance
from benchmarks.conftest import _check_backend


def _lora(backend):
    x, w = torch.randn(4, 8), torch.randn(6, 8)
    a, b = torch.randn(2, 8), torch.randn(6, 2)
    return lambda: hubkit.ops.lora_linear(x, w, None, a, b, 1.0, backend=backend)


def test_trace_ops_names_the_backend_each_hubkit_op_ran():
    assert "hubkit::lora_linear[reference]" in provenance.trace_ops(_lora("reference"))
    assert "aten::mm" in provenance.trace_ops(lambda: torch.randn(2, 2) @ torch.randn(2, 2))


def test_a_provider_named_for_one_backend_that_runs_another_is_refused():
    traced = provenance.trace_ops(_lora("reference"))
    _check_backend("hubkit-reference", "reference", traced)  # what it says: fine
    with pytest.raises(AssertionError, match="said to run hubkit's triton backend"):
        _check_backend("fused", "triton", traced)
    with pytest.raises(AssertionError, match="said to run torch only"):
        _check_backend("unfused", "torch", traced)


def test_load_since_reports_other_processes_share_and_loadavg():
    start = provenance.Snapshot.take(per_process=True)
    sum(i * i for i in range(200_000))  # this process's own work is not "other"
    load = provenance.load_since(start, per_process=True)
    assert len(load["loadavg_before"]) == 3 and len(load["loadavg_after"]) == 3
    assert 0 <= load["other_processes_cpu_share"] <= 1 and load["this_run_cpu_share"] > 0
    assert isinstance(load["quiet"], bool)
    assert all(p["cores"] > 0 for p in load["busiest_other_processes"])


def test_record_has_command_machine_load_and_commit():
    info = provenance.record(provenance.Snapshot.take(per_process=True))
    assert shlex.split(info["command"])[0] == (getattr(sys, "orig_argv", None)
                                               or [sys.executable])[0]
    assert info["machine"]["cpu_model"] and info["machine"]["logical_cores"] >= 1
    assert len(info["git"]["commit"]) == 40 and isinstance(info["git"]["dirty"], bool)


def test_wrapper_stamps_every_file_the_command_wrote(tmp_path):
    script = ("import json, pathlib, sys; o = pathlib.Path(sys.argv[1]); "
              "(o / 'r.json').write_text(json.dumps({'x': 1})); (o / 't.md').write_text('# t\\n');"
              " (o / 'raw.txt').write_text('1')")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    subprocess.run([sys.executable, "benchmarks/provenance.py", "--out", str(tmp_path), "--",
                    sys.executable, "-c", script, str(tmp_path)], cwd=root, check=True,
                   capture_output=True)
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["x"] == 1 and "-c" in data["provenance"]["command"]
    assert "## Provenance" in (tmp_path / "t.md").read_text()
    side = json.loads((tmp_path / "raw.txt.provenance.json").read_text())
    assert "loadavg_before" in side["load"] and side["exit_code"] == 0


def test_git_lists_dirty_source_paths_whole():
    for path in provenance.git()["dirty_source_paths"]:  # not " M CMakeLists.txt" cut short
        assert path.split("/")[0] in provenance.SOURCE_PATHS, path


RESULTS = Path(__file__).parent / "results"


@pytest.mark.parametrize("path", sorted(p for p in RESULTS.iterdir() if p.name != ".gitkeep"),
                         ids=lambda p: p.name)
def test_every_results_file_records_command_machine_load_and_commit(path):
    if path.suffix == ".json":
        info = json.loads(path.read_text())["provenance"]
    elif path.suffix == ".md":
        info = json.loads(path.read_text().split("## Provenance")[1].split("```json")[1]
                          .split("```")[0])
    elif path.suffix == ".png":
        from PIL import Image

        with Image.open(path) as image:
            info = json.loads(image.text["provenance"])
    elif path.is_dir():  # a run's output folder records its provenance inside
        info = json.loads((path / "provenance.json").read_text())
    else:
        info = json.loads(path.with_name(path.name + ".provenance.json").read_text())
    assert info["command"] and "load" in info
    machine = info.get("machine") or json.loads(path.read_text())["machine_info"]
    assert machine.get("cpu_model") and machine.get("logical_cores")
    assert (info.get("git") or {}).get("commit") or info.get("reconstructed")


def test_measured_results_say_what_each_provider_ran():
    for path in RESULTS.glob("*.json"):
        data = json.loads(path.read_text())
        if data["provenance"].get("reconstructed") or "benchmarks" not in data:
            continue
        for bench in data["benchmarks"]:
            assert bench["extra_info"].get("ran"), (path.name, bench["name"])
            assert "other_processes_cpu_share" in bench["extra_info"]["load"]
