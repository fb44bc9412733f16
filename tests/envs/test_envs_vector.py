"""The C++ vector env (hubkit._mujoco) against Gymnasium, the reference, and itself."""

from __future__ import annotations

import numpy as np
import pytest
from envs_parity import LIMITS, TASKS

pytestmark = pytest.mark.mujoco
pytest.importorskip("mujoco")
gym = pytest.importorskip("gymnasium")


def _cpp_available() -> bool:
    try:
        from hubkit.envs.vector import load_extension

        load_extension()
        return True
    except ImportError:
        return False


if not _cpp_available():
    pytest.skip("hubkit._mujoco was not built", allow_module_level=True)

from hubkit.envs.vector import MujocoVectorEnv  # noqa: E402


def _rollout(env, steps: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    out = [obs]
    for _ in range(steps):
        o, r, te, tr, _ = env.step(rng.uniform(-1, 1, env.action_space.shape))
        out += [o, r[:, None], te[:, None], tr[:, None]]
    return np.concatenate([x.reshape(len(obs), -1) for x in out], axis=1)


@pytest.mark.parametrize("task", TASKS)
def test_cpp_matches_gymnasium_v5_across_episode_ends(task, gym_parity):
    vec = MujocoVectorEnv(task, num_envs=2, num_threads=2, max_episode_steps=LIMITS[task])
    assert gym_parity(task, vec, num_envs=2, steps=1000) >= 2


@pytest.mark.parametrize("task", ["Hopper", "Ant"])
def test_cpp_matches_reference_with_its_own_reset_noise_injected(task):
    from hubkit.envs.reference import ReferenceVectorEnv, task_spec

    spec = task_spec(task).replace(max_episode_steps=40)
    ref, cpp = ReferenceVectorEnv(spec, 3, seed=1), MujocoVectorEnv(spec, 3, num_threads=2)
    rng = np.random.default_rng(0)
    for i in range(3):
        cpp.queue_reset_state(i, ref.model.qpos0, np.zeros(ref.model.nv))
        ref.queue_reset_state(i, ref.model.qpos0, np.zeros(ref.model.nv))
    np.testing.assert_allclose(cpp.reset()[0], ref.reset(), rtol=0, atol=1e-10)
    for _ in range(100):
        a = rng.uniform(-1, 1, (3, ref.action_dim))
        for i in np.flatnonzero(ref.needs_reset):  # give both the same reset state
            state = ref.model.qpos0 + rng.uniform(-0.01, 0.01, ref.model.nq), np.zeros(ref.model.nv)
            ref.queue_reset_state(i, *state)
            cpp.queue_reset_state(i, *state)
        want, got = ref.step(a), cpp.step(a)
        for w, g in zip(want, got[:4], strict=True):
            np.testing.assert_allclose(g, w, rtol=0, atol=1e-10)


@pytest.mark.parametrize("task", ["Walker2d", "Ant", "Reacher"])
def test_cpp_results_identical_for_any_thread_count(task):
    runs = [_rollout(MujocoVectorEnv(task, num_envs=5, num_threads=t, max_episode_steps=30), 120)
            for t in (1, 2, 3, 8)]
    for r in runs[1:]:
        np.testing.assert_array_equal(r, runs[0])


def test_cpp_same_seed_same_trajectories_and_other_seed_differs():
    a = _rollout(MujocoVectorEnv("Hopper", num_envs=3, num_threads=2), 60, seed=5)
    b = _rollout(MujocoVectorEnv("Hopper", num_envs=3, num_threads=1), 60, seed=5)
    c = _rollout(MujocoVectorEnv("Hopper", num_envs=3, num_threads=2), 60, seed=6)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_cpp_autoreset_is_next_step():
    env = MujocoVectorEnv("Reacher", num_envs=2, max_episode_steps=3)
    env.reset(seed=0)
    zero = np.zeros((2, 2))
    for _ in range(3):
        _, _, _, trunc, _ = env.step(zero)
    assert trunc.all()
    obs, rew, term, trunc, _ = env.step(zero)  # the reset step: action ignored
    assert (rew == 0).all() and not term.any() and not trunc.any()
    assert (env.core.episode_steps == 0).all()
    assert env.metadata["autoreset_mode"] == gym.vector.AutoresetMode.NEXT_STEP


def test_module_prefixed_id_imports_and_registers():
    envs = gym.make_vec("hubkit.envs:hubkit/Hopper-v5", num_envs=2,
                        vectorization_mode="vector_entry_point", num_threads=2)
    assert envs.reset(seed=0)[0].shape == (2, 11)
    assert gym.make("hubkit.envs:hubkit/Reacher-v5").spec.max_episode_steps == 50


def test_make_vec_vector_entry_point_with_threads():
    import hubkit.envs  # noqa: F401  (registers the ids)

    envs = gym.make_vec("hubkit/HalfCheetah-v5", num_envs=3,
                        vectorization_mode="vector_entry_point", num_threads=2)
    obs, _ = envs.reset(seed=0)
    assert obs.shape == (3, 17) and envs.unwrapped.core.num_threads == 2
    assert envs.unwrapped.task_spec.max_episode_steps == 1000


@pytest.mark.parametrize("task", TASKS)
def test_single_env_passes_check_env(task):
    from gymnasium.utils.env_checker import check_env

    import hubkit.envs  # noqa: F401

    check_env(gym.make(f"hubkit/{task}-v5").unwrapped, skip_render_check=True)


def test_views_are_shared_with_torch_without_copy():
    torch = pytest.importorskip("torch")
    env = MujocoVectorEnv("HalfCheetah", num_envs=2, copy=False)
    obs, _ = env.reset(seed=0)
    t = torch.from_numpy(obs)
    env.step(np.zeros((2, 6)))
    assert t.data_ptr() == env.core.obs.ctypes.data
    np.testing.assert_array_equal(t.numpy(), env.core.obs)


def test_unstable_simulation_is_flagged_and_reset_not_crashed():
    env = MujocoVectorEnv("Hopper", num_envs=2, max_episode_steps=0)
    env.reset(seed=0)
    qpos, _ = env.core.get_state(1)
    env.core.queue_reset_state(1, qpos, np.full(6, 1e12))  # a state that blows up
    env.core.reset_all()
    _, _, _, trunc, infos = env.step(np.zeros((2, 3)))
    assert infos["unstable"].tolist() == [False, True] and trunc[1]
    obs, *_ = env.step(np.zeros((2, 3)))
    assert np.isfinite(obs).all()


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"num_envs": 0}, "num_envs"), ({"num_threads": 0}, "num_threads"),
    ({"task": "Humanoid"}, "task"), ({"seed": -1}, "seed")])
def test_bad_constructor_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MujocoVectorEnv(**{"task": "Hopper", **kwargs})


@pytest.mark.parametrize("actions", [np.zeros((2, 4)), np.zeros(6), np.full((2, 3), np.nan)])
def test_bad_actions_raise_and_change_nothing(actions):
    env = MujocoVectorEnv("Hopper", num_envs=2)
    obs, _ = env.reset(seed=0)
    with pytest.raises(ValueError, match="actions"):
        env.step(actions)
    np.testing.assert_array_equal(env.core.obs, obs)


def test_cpp_info_columns_are_the_references():
    from hubkit.envs.reference import INFO_COLUMNS
    from hubkit.envs.vector import load_extension

    assert tuple(load_extension().info_columns) == INFO_COLUMNS
    assert MujocoVectorEnv("Ant", num_envs=2).core.info.shape == (2, len(INFO_COLUMNS))


def test_version_mismatch_with_installed_mujoco_is_a_clear_import_error(monkeypatch):
    import mujoco

    from hubkit.envs.vector import load_extension

    monkeypatch.setattr(mujoco, "mj_version", lambda: 3_003_000)
    with pytest.raises(ImportError, match="built against mujoco .* reinstall hubkit"):
        load_extension()
