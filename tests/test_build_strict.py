"""`hubkit doctor --strict`: CI fails, rather than skips, when an extension was not built."""

from __future__ import annotations

import pytest

from hubkit import _ext, cli
from hubkit.check import doctor

BUILT = {"cpp": "built", "cuda": "nvcc not found at build time", "cuda_request": "AUTO",
         "mujoco": "built against mujoco 4.0.0"}


@pytest.fixture
def machine(monkeypatch):
    """A machine where every extension loads; tests then take pieces away."""
    state = {"info": dict(BUILT), "missing": set()}
    monkeypatch.setattr(doctor, "report", lambda console=None: None)
    monkeypatch.setattr(_ext, "build_info", lambda: state["info"])
    monkeypatch.setattr(_ext, "cpp_module", lambda: None if "_C" in state["missing"] else _ext)
    monkeypatch.setattr(_ext, "cuda_module",
                        lambda: None if "_cuda" in state["missing"] else _ext)
    monkeypatch.setattr(_ext, "load_error", lambda name: f"ImportError: no {name}")
    monkeypatch.setattr(doctor, "_mujoco_problem",
                        lambda: "not built" if "_mujoco" in state["missing"] else None)
    return state


def test_strict_passes_when_every_extension_loads(machine, capsys):
    assert cli.main(["doctor", "--strict"]) == 0
    assert "every compiled extension is built and loads" in capsys.readouterr().out


@pytest.mark.parametrize(("missing", "named"), [("_C", "hubkit._C"),
                                                ("_mujoco", "hubkit._mujoco")])
def test_strict_fails_naming_a_missing_extension(machine, capsys, missing, named):
    machine["missing"].add(missing)
    assert cli.main(["doctor", "--strict"]) == 1
    out = capsys.readouterr().out
    assert "missing" in out and named in out


def test_without_strict_a_missing_extension_is_only_reported(machine):
    machine["missing"].update({"_C", "_mujoco"})
    assert cli.main(["doctor"]) == 0


def test_cuda_counts_only_when_the_build_asked_for_it(machine, capsys):
    machine["missing"].add("_cuda")
    assert cli.main(["doctor", "--strict"]) == 0
    machine["info"]["cuda_request"] = "ON"
    assert cli.main(["doctor", "--strict"]) == 1
    assert "hubkit._cuda" in capsys.readouterr().out
