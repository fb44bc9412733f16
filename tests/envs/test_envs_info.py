"""`info` as Gymnasium's v5 envs give it, set_state, and no MuJoCo warnings from hubkit's envs."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from envs_parity import TASKS, check_info, random_actions

pytestmark = pytest.mark.mujoco
pytest.importorskip("mujoco")
gym = pytest.importorskip("gymnasium")
try:
    from hubkit.envs.vector import load_extension

    load_extension()
except ImportError:
    pytest.skip("hubkit._mujoco was not built", allow_module_level=True)

import hubkit.envs  # noqa: E402,F401  (registers the ids)
from hubkit.envs.reference import RESET_INFO_KEYS, sample_reset_state, task_spec  # noqa: E402
from hubkit.envs.vector import MujocoVectorEnv  # noqa: E402


@pytest.mark.parametrize("task", TASKS)
def test_single_env_info_equals_gymnasiums_from_the_same_state(task):
    ours, theirs = gym.make(f"hubkit/{task}-v5"), gym.make(f"{task}-v5")
    _, info = ours.reset(seed=3)
    theirs.reset(seed=3)
    qpos, qvel = ours.unwrapped.get_state()
    theirs.unwrapped.set_state(qpos, qvel)
    check_info(-1, info, theirs.unwrapped._get_reset_info(), f"{task} reset")
    rng = np.random.default_rng(0)
    for t in range(30):
        a = random_actions(rng, theirs.action_space, 1)[0]
        got, want = ours.step(a), theirs.step(a)
        np.testing.assert_allclose(got[0], want[0], rtol=0, atol=1e-10)
        assert got[1] == pytest.approx(want[1], abs=1e-10)
        check_info(t, got[4], want[4], task)


def _sync_vector_envs(task: str, n: int, limit: int):
    ours = MujocoVectorEnv(task, num_envs=n, max_episode_steps=limit)
    theirs = gym.make_vec(f"{task}-v5", num_envs=n, vectorization_mode="sync",
                          max_episode_steps=limit)
    return ours, theirs


def _queue_gymnasium_next_resets(ours, theirs, task, ended) -> None:
    # SyncVectorEnv resets an ended env with its own generator at the next step:
    # draw that same state from a copy of the generator and hand it to ours.
    spec = task_spec(task)
    for i in np.flatnonzero(ended):
        sub = theirs.envs[i].unwrapped
        qpos, qvel = sample_reset_state(spec, sub.model, copy.deepcopy(sub.np_random))
        ours.queue_reset_state(int(i), qpos, qvel)


def _check_vector_infos(t, got: dict, want: dict) -> None:
    assert set(got) == set(want), f"step {t}: keys {sorted(got)} != {sorted(want)}"
    for key, value in want.items():
        if key.startswith("_"):
            assert got[key].dtype == bool, f"step {t}: mask {key} is {got[key].dtype}"
            np.testing.assert_array_equal(got[key], value, err_msg=f"mask {key} at step {t}")
        else:
            assert got[key].shape == value.shape and got[key].dtype.kind == "f", key
            np.testing.assert_allclose(got[key], value, rtol=0, atol=1e-10,
                                       err_msg=f"infos[{key!r}] at step {t}")


@pytest.mark.parametrize("task", ["Hopper", "Ant", "Reacher"])
def test_vector_infos_equal_gymnasium_sync_vector_env_across_autoresets(task):
    ours, theirs = _sync_vector_envs(task, n=3, limit=7)
    _, want = theirs.reset(seed=[0, 1, 2])
    for i, sub in enumerate(theirs.envs):
        ours.queue_reset_state(i, sub.unwrapped.data.qpos, sub.unwrapped.data.qvel)
    _, got = ours.reset()
    _check_vector_infos(-1, got, want)
    rng, resets = np.random.default_rng(0), 0
    for t in range(24):
        a = random_actions(rng, theirs.single_action_space, 3)
        got_step, want_step = ours.step(a), theirs.step(a)
        np.testing.assert_allclose(got_step[0], want_step[0], rtol=0, atol=1e-10)
        _check_vector_infos(t, got_step[4], want_step[4])
        ended = got_step[2] | got_step[3]
        resets += int(ended.sum())
        _queue_gymnasium_next_resets(ours, theirs, task, ended)
    assert resets >= 3  # the run crossed NEXT_STEP resets, where only reset keys are masked in


def test_vector_reset_info_has_every_env_masked_in():
    env = MujocoVectorEnv("Hopper", num_envs=4)
    _, infos = env.reset(seed=0)
    assert [k for k in infos if not k.startswith("_")] == list(RESET_INFO_KEYS["Hopper"])
    assert all(infos[f"_{k}"].all() for k in RESET_INFO_KEYS["Hopper"])
    np.testing.assert_array_equal(infos["x_position"],
                                  [env.core.get_state(i)[0][0] for i in range(4)])


def test_set_state_moves_the_robot_and_the_next_step_starts_there():
    env = gym.make("hubkit/Walker2d-v5").unwrapped
    env.reset(seed=0)
    qpos, qvel = env.get_state()
    qpos[0], qvel[0] = 5.0, 0.5
    env.set_state(qpos, qvel)
    got_qpos, got_qvel = env.get_state()
    np.testing.assert_array_equal(got_qpos, qpos)
    np.testing.assert_array_equal(got_qvel, qvel)
    _, _, _, _, info = env.step(np.zeros(6))
    assert info["x_position"] == pytest.approx(5.0 + 0.5 * env.dt, abs=0.05)


@pytest.mark.parametrize(("qpos", "qvel", "match"), [
    (np.zeros(8), np.zeros(9), r"qpos must have shape \(9,\)"),
    (np.zeros(9), np.zeros((1, 9)), r"qvel must have shape \(9,\)"),
    (np.full(9, np.nan), np.zeros(9), "qpos must be finite"),
    (np.zeros(9), np.full(9, np.inf), "qvel must be finite")])
def test_set_state_rejects_bad_shapes_naming_the_argument_and_changes_nothing(qpos, qvel, match):
    env = gym.make("hubkit/HalfCheetah-v5").unwrapped
    env.reset(seed=0)
    before = env.get_state()
    with pytest.raises(ValueError, match=match):
        env.set_state(qpos, qvel)
    for got, want in zip(env.get_state(), before, strict=True):
        np.testing.assert_array_equal(got, want)


def test_single_env_goes_on_after_termination_until_reset_as_gymnasium():
    env = gym.make("hubkit/Hopper-v5").unwrapped
    env.reset(seed=0)
    qpos, qvel = env.get_state()
    qpos[1] = 0.5  # below the healthy height: terminates at once
    env.set_state(qpos, qvel)
    assert env.step(np.zeros(3))[2]
    obs, reward, terminated, _, info = env.step(np.zeros(3))  # no silent reset
    assert terminated and "x_velocity" in info and reward != 0.0


def test_hubkit_envs_print_no_mujoco_warning_and_leave_no_log(tmp_path, capfd):
    from hubkit.envs.reference import ReferenceVectorEnv

    for task in TASKS:
        MujocoVectorEnv(task, num_envs=1).reset(seed=0)
        ReferenceVectorEnv(task).reset()
        gym.make(f"hubkit/{task}-v5").reset(seed=0)
    out, err = capfd.readouterr()
    assert "WARNING" not in out + err and "deprecated" not in out + err
    assert list(tmp_path.iterdir()) == []  # the test runs in tmp_path: no MUJOCO_LOG.TXT
