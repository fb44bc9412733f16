"""Reacher's rewards for the shaping experiment (hubkit.envs.shaping_ppo)."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytestmark = pytest.mark.mujoco
pytest.importorskip("mujoco")
pytest.importorskip("gymnasium")
try:
    from hubkit.envs.vector import MujocoVectorEnv, load_extension

    load_extension()
except ImportError:
    pytest.skip("hubkit._mujoco was not built", allow_module_level=True)

from hubkit.envs.shaping_ppo import ReachReward, fingertip_distance, main  # noqa: E402


def _run(kind, steps=52):
    plain = MujocoVectorEnv("Reacher", 3, seed=0)
    env = ReachReward(MujocoVectorEnv("Reacher", 3, seed=0), kind, radius=0.1, weight=2.0,
                      gamma=0.9)
    obs, rows = [plain.reset(seed=0)[0]], []
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(steps):
        a = rng.uniform(-1, 1, (3, 2))
        o, r_plain, *_ = plain.step(a)
        rows.append((r_plain, env.step(a)[1]))
        obs.append(o)
    return np.array([fingertip_distance(o) for o in obs]), rows


def test_fingertip_distance_is_the_models_fingertip_to_target_distance():
    from hubkit.envs.reference import ReferenceVectorEnv, fingertip_offset

    env = ReferenceVectorEnv("Reacher", 1, seed=0)
    obs = env.reset(seed=0)
    for _ in range(3):
        obs = env.step(np.ones((1, 2)))[0]
    want = np.linalg.norm(fingertip_offset(env.model, env.datas[0]))
    np.testing.assert_allclose(fingertip_distance(obs), [want], rtol=1e-12)


def test_dense_is_reachers_own_reward():
    _, rows = _run("dense", steps=5)
    for plain, got in rows:
        np.testing.assert_array_equal(got, plain)


def test_potential_is_sparse_plus_gamma_phi_next_minus_phi_and_resets_pay_nothing():
    d, rows = _run("potential")
    for t, (_, got) in enumerate(rows):
        want = (d[t + 1] < 0.1) + 2.0 * (d[t] - 0.9 * d[t + 1])
        if t == 50:  # step 51 is the NEXT_STEP reset after the 50-step episode
            want = np.zeros(3)
        np.testing.assert_allclose(got, want, atol=1e-12, err_msg=f"step {t}")


def test_unknown_reward_raises():
    with pytest.raises(ValueError, match="kind"):
        ReachReward(MujocoVectorEnv("Reacher", 1), "curiosity")


@pytest.mark.slow
def test_cli_trains_and_writes_results(tmp_path):
    pytest.importorskip("matplotlib")
    main(["--out", str(tmp_path), "--steps", "2048", "--rewards", "sparse", "--quiet"])
    table = json.loads((tmp_path / "results.json").read_text())["rewards"]
    assert 0 <= table["sparse"]["success_rate"] <= 1
    assert (tmp_path / "final_distance.png").read_bytes()[:4] == b"\x89PNG"
