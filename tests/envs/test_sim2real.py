"""Actuator gain, action delay and observation noise on both envs (hubkit.envs.sim2real)."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.mujoco
pytest.importorskip("mujoco")

from hubkit.envs.dynamics import DynamicsRanges  # noqa: E402
from hubkit.envs.reference import ReferenceVectorEnv, task_spec  # noqa: E402
from hubkit.envs.sim2real import (  # noqa: E402
    Perturbations,
    Perturbed,
    ReferenceAsVector,
    make_randomized,
)


class _Recorder:
    """A fake vector env that records the actions it receives; episodes last `limit` steps."""

    def __init__(self, n: int = 2, limit: int = 4):
        self.num_envs, self.action_dim, self.limit = n, 1, limit
        self.sent, self.t = [], np.zeros(n, dtype=int)

    def reset(self, *, seed=None, options=None):
        self.t[:] = 0
        return np.zeros((self.num_envs, 1)), {}

    def step(self, actions):
        self.sent.append(np.array(actions)[:, 0])
        ended = self.t >= self.limit  # NEXT_STEP: this step was a reset
        self.t = np.where(ended, 0, self.t + 1)
        done = self.t >= self.limit
        return np.zeros((self.num_envs, 1)), np.zeros(self.num_envs), done, ~done & False, {}


def _plain(task="Reacher", n=2):
    env = ReferenceVectorEnv(task, n, seed=0)
    env.reset(seed=0)
    return env


def test_gain_scales_the_action_the_simulator_receives():
    env = Perturbed(ReferenceAsVector(ReferenceVectorEnv("Reacher", 2)),
                    Perturbations(gain=(0.5, 0.5)), seed=0)
    env.reset(seed=0)
    plain, a = _plain(), np.full((2, 2), 0.8)
    np.testing.assert_array_equal(env.step(a)[0], plain.step(0.5 * a)[0])


def test_delay_sends_the_action_chosen_d_steps_earlier():
    env = Perturbed(ReferenceAsVector(ReferenceVectorEnv("Reacher", 2)),
                    Perturbations(delay=(2, 2)), seed=0)
    env.reset(seed=0)
    plain, rng = _plain(), np.random.default_rng(1)
    acts = [rng.uniform(-1, 1, (2, 2)) for _ in range(6)]
    sent = [np.zeros((2, 2)), np.zeros((2, 2)), *acts[:4]]
    for a, s in zip(acts, sent, strict=True):
        np.testing.assert_array_equal(env.step(a)[0], plain.step(s)[0])


def test_delay_line_restarts_with_zeros_after_an_episode_ends():
    rec = _Recorder(n=1, limit=3)
    env = Perturbed(rec, Perturbations(delay=(1, 1)), seed=0)
    env.reset(seed=0)
    for t in range(1, 9):
        env.step(np.array([[float(t)]]))
    # steps 1-3: episode (1 lag); step 4: reset (action ignored); 5-7: new episode.
    np.testing.assert_array_equal(np.concatenate(rec.sent), [0, 1, 2, 0, 0, 5, 6, 0])


def test_observation_noise_has_the_given_std_and_is_seeded():
    def noisy(seed):
        env = Perturbed(ReferenceAsVector(ReferenceVectorEnv("Reacher", 64)),
                        Perturbations(obs_noise=0.1), seed=seed)
        return env.reset(seed=seed)[0]

    clean = ReferenceVectorEnv("Reacher", 64).reset(seed=3)
    diff = noisy(3) - clean
    assert abs(diff.std() - 0.1) < 0.01
    np.testing.assert_array_equal(noisy(3), noisy(3))


def test_gain_and_delay_drawn_in_range_and_redrawn_each_episode():
    spec = task_spec("Reacher").replace(max_episode_steps=3)
    env = make_randomized(spec, 8, perturbations=Perturbations(gain=(0.5, 0.7), delay=(0, 3)),
                          seed=0)
    _, info = env.reset(seed=0)
    first = info["actuator_gain"]
    assert ((first >= 0.5) & (first <= 0.7)).all() and set(info["action_delay"]) <= {0, 1, 2, 3}
    for _ in range(3):
        *_, info = env.step(np.zeros((8, 2)))
    assert not np.array_equal(info["actuator_gain"], first)


def test_bad_perturbations_raise():
    with pytest.raises(ValueError, match="delay"):
        Perturbations(delay=(2, 1)).check()
    with pytest.raises(ValueError, match="gain"):
        Perturbed(_Recorder(), Perturbations(gain=(-1.0, 1.0)))
    with pytest.raises(ValueError, match="backend"):
        make_randomized("Reacher", 1, backend="jax")


def test_reference_and_cpp_agree_under_every_randomization():
    try:
        from hubkit.envs.vector import load_extension

        load_extension()
    except ImportError:
        pytest.skip("hubkit._mujoco was not built")
    spec = task_spec("Hopper").replace(max_episode_steps=10)
    dyn = DynamicsRanges(mass=(0.5, 1.5), friction=(0.6, 0.9), damping=(1.1, 1.4))
    pert = Perturbations(gain=(0.6, 1.4), delay=(0, 2), obs_noise=0.01)
    ref = make_randomized(spec, 3, dyn, pert, seed=4, backend="reference")
    cpp = make_randomized(spec, 3, dyn, pert, seed=4, backend="cpp", num_threads=2)
    rng = np.random.default_rng(0)

    def queue(envs):
        for i in envs:
            state = (ref.env.env.model.qpos0 + rng.uniform(-0.01, 0.01, 6), np.zeros(6))
            ref.env.env.queue_reset_state(int(i), *state)
            cpp.env.env.queue_reset_state(int(i), *state)

    queue(range(3))
    np.testing.assert_allclose(cpp.reset()[0], ref.reset()[0], rtol=0, atol=1e-10)
    for t in range(35):
        a = rng.uniform(-1, 1, (3, 3))
        want, got = ref.step(a), cpp.step(a)
        np.testing.assert_allclose(got[0], want[0], rtol=0, atol=1e-10, err_msg=f"step {t}")
        np.testing.assert_array_equal(got[4]["actuator_gain"], want[4]["actuator_gain"])
        np.testing.assert_array_equal(got[4]["action_delay"], want[4]["action_delay"])
        queue(np.flatnonzero(ref.env.env.needs_reset))
    assert ref.delays.max() > 0
