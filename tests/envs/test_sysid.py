"""System identification recovers randomized physics (hubkit.envs.sysid)."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytestmark = pytest.mark.mujoco
pytest.importorskip("mujoco")
pytest.importorskip("scipy")

from hubkit.envs.reference import task_spec  # noqa: E402
from hubkit.envs.sysid import collect, identify, main  # noqa: E402


def test_least_squares_recovers_mass_friction_and_damping():
    spec = task_spec("HalfCheetah")
    true = np.array([1.3, 0.7, 0.85])
    found, rms = identify(spec, collect(spec, true, steps=40, seed=1))
    np.testing.assert_allclose(found, true, rtol=1e-3)
    assert rms < 1e-6


def test_transitions_skip_next_step_resets():
    spec = task_spec("Reacher").replace(max_episode_steps=5)
    tr = collect(spec, (1.0, 1.0, 1.0), steps=12, seed=0)
    assert len(tr.actions) == 10  # steps 6 and 12 were resets


def test_cli_writes_results_and_plot(tmp_path):
    pytest.importorskip("matplotlib")
    main(["--out", str(tmp_path), "--trials", "1", "--steps", "20", "--noises", "0", "0.01",
          "--quiet"])
    rows = json.loads((tmp_path / "results.json").read_text())["trials"]
    assert len(rows) == 2 and max(rows[0]["relative_error"]) < 1e-3
    assert max(rows[1]["relative_error"]) > max(rows[0]["relative_error"])  # noise costs
    assert (tmp_path / "sysid.png").read_bytes()[:4] == b"\x89PNG"
