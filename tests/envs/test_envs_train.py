"""`python -m hubkit.envs.train`: real --help, --out, progress lines, "wrote ...", no litter."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytestmark = pytest.mark.mujoco
pytest.importorskip("mujoco")
pytest.importorskip("gymnasium")
pytest.importorskip("matplotlib")
try:
    from hubkit.envs.vector import load_extension

    load_extension()
except ImportError:
    pytest.skip("hubkit._mujoco was not built", allow_module_level=True)

from hubkit import runs  # noqa: E402
from hubkit.envs import train  # noqa: E402

TINY = ["--iterations", "2", "--population", "4", "--horizon", "15", "--sizes", "0,0.5",
        "--robust-steps", "15"]


def test_help_describes_the_run_and_starts_nothing(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        train.main(["--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    for flag in ("--out", "runs/envs-<time>", "--iterations", "--sizes", "envs-robustness.png"):
        assert flag in text
    assert list(tmp_path.iterdir()) == []  # the test's cwd


def test_tiny_run_writes_only_under_out_with_progress_and_no_warnings(tmp_path, monkeypatch,
                                                                       capfd):
    cwd, out = tmp_path / "cwd", tmp_path / "out"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    train.main([*TINY, "--out", str(out)])
    stdout, stderr = capfd.readouterr()
    assert list(cwd.iterdir()) == []  # no MUJOCO_LOG.TXT, no PNG in the current directory
    names = ["envs-trajectories.png", "envs-robustness.png", "envs-results.json",
             "metrics.jsonl"]
    assert sorted(p.name for p in out.iterdir()) == sorted(names)
    assert "wrote 4 file(s)" in stdout and all(str(out / n) in stdout for n in names)
    assert "CEM iteration 1/2: best return" in stderr and "CEM iteration 2/2: best return" in stderr
    assert "HalfCheetah: CEM gait, perturbation 0.50: average return" in stderr
    assert "robustness variant 4/4" in stderr and " < " in stderr  # progress line with its ETA
    for noise in ("WARNING", "Warning", "deprecated"):
        assert noise not in stdout + stderr
    results = json.loads((out / "envs-results.json").read_text())
    assert len(results["cem_best_return_per_iteration"]) == 2 and results["sizes"] == [0.0, 0.5]
    (logged,) = runs.find_runs(out)  # the same numbers, through hubkit.runlog's tracker
    assert logged.curve("best_return") == ([1, 2], results["cem_best_return_per_iteration"])
    assert logged.curve("HalfCheetah/avg_return") == (
        [0, 1], results["robustness"]["HalfCheetah: CEM gait"])


def test_default_out_is_runs_envs_time_in_the_current_directory(tmp_path):
    train.main([*TINY, "--iterations", "1", "--quiet"])
    (run,) = (tmp_path / "runs").iterdir()
    assert run.name.startswith("envs-") and len(list(run.iterdir())) == 4
    assert [p.name for p in tmp_path.iterdir()] == ["runs"]


@pytest.mark.parametrize("bad", [["--sizes", "0.2,x"], ["--sizes", "1.5"], ["--population", "1"]])
def test_bad_arguments_are_usage_errors(bad, capsys):
    with pytest.raises(SystemExit) as stop:
        train.main(bad)
    assert stop.value.code == 2 and bad[0] in capsys.readouterr().err


def test_mujoco_warnings_are_collected_not_logged_to_the_current_directory(tmp_path):
    import mujoco

    from hubkit.envs.vector import MujocoVectorEnv

    env = MujocoVectorEnv("Hopper", num_envs=1, max_episode_steps=0)
    env.reset(seed=0)
    qpos, _ = env.core.get_state(0)
    with train.mujoco_warnings() as seen:
        env.core.queue_reset_state(0, qpos, np.full(6, 1e12))  # blows up at once
        env.core.reset_all()
        env.step(np.zeros((1, 3)))
    assert seen and "unstable" in seen[0]
    assert mujoco.get_mju_user_warning() is None  # the previous handler is back
    assert list(tmp_path.iterdir()) == []
