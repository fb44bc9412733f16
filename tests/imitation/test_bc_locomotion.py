"""Behavioral cloning on HalfCheetah (CEM gait with its phase) and Hopper (a PPO policy)."""

import numpy as np
import pytest

pytest.importorskip("mujoco")
pytest.importorskip("gymnasium")

from hubkit.envs.controllers import CEMConfig, cem_gait, gait_actions  # noqa: E402
from hubkit.imitation import bc  # noqa: E402
from hubkit.imitation import tasks as T  # noqa: E402
from hubkit.imitation.demos import rollout, transitions  # noqa: E402

HORIZON = 100  # short episodes keep these tests fast


@pytest.fixture(scope="module")
def cheetah():
    params, _ = cem_gait(CEMConfig(population=16, iterations=3, horizon=HORIZON, num_threads=1))
    return T.halfcheetah_task(params)


@pytest.fixture(scope="module")
def hopper():
    if not T.HOPPER_PPO.exists():
        pytest.skip(f"the committed PPO Hopper policy is not in this checkout ({T.HOPPER_PPO})")
    return T.make_task("hopper")


def _random(act_dim: int):
    rng = np.random.default_rng(0)
    return lambda obs: rng.uniform(-1, 1, (len(obs), act_dim))


def test_gait_expert_acts_from_the_phase_the_wrapper_appends(cheetah):
    env = cheetah.make_env(3, 0, max_episode_steps=HORIZON)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (3, 19) == (3, *env.single_observation_space.shape)
    params = np.tile(cheetah.expert.params, (3, 1))
    dt = env.unwrapped.model.opt.timestep * env.unwrapped.task_spec.frame_skip
    # the final observation is at t = HORIZON, then the NEXT_STEP reset restarts the phase
    for t in [*range(HORIZON + 1), 0, 1, 2]:
        action = cheetah.expert(obs)
        np.testing.assert_allclose(action, gait_actions(params, t, dt), atol=1e-12)
        obs, *_ = env.step(action)


@pytest.mark.parametrize("name", ["cheetah", "hopper"])
def test_expert_beats_a_random_policy_on_a_short_horizon(name, request):
    task = request.getfixturevalue(name)
    env = task.make_env(4, 0, max_episode_steps=HORIZON)
    act_dim = env.single_action_space.shape[0]
    expert = bc.mean_return(env, task.expert, 4, 1)
    random = bc.mean_return(env, _random(act_dim), 4, 1)
    assert expert > random + 50, (expert, random)


@pytest.mark.parametrize("name", ["cheetah", "hopper"])
def test_bc_on_a_few_demos_reduces_action_error_on_held_out_states(name, request):
    task = request.getfixturevalue(name)
    env = task.make_env(4, 0, max_episode_steps=HORIZON)
    train, held_out = rollout(env, task.expert, 2, 0), rollout(env, task.expert, 2, 1)
    obs, actions = transitions(held_out)

    def mse(steps: int) -> float:
        policy = bc.fit_policy(*transitions(train), bc.BCConfig(steps=steps))
        return float(((policy.act(obs) - actions) ** 2).sum(axis=1).mean())

    untrained, cloned = mse(0), mse(300)
    assert cloned < 0.3 * untrained, (cloned, untrained)


@pytest.mark.slow  # about 13 s on the shared machine
def test_bc_without_the_phase_input_copies_the_gait_less_closely(cheetah):
    env = cheetah.make_env(2, 0, max_episode_steps=HORIZON)
    obs, actions = transitions(rollout(env, cheetah.expert, 2, 0))
    test_obs, test_actions = transitions(rollout(env, cheetah.expert, 2, 1))
    cfg = bc.BCConfig(steps=200)
    with_phase = bc.fit_policy(obs, actions, cfg).act(test_obs)
    without = bc.fit_policy(obs[:, :-2], actions, cfg).act(test_obs[:, :-2])
    err = [float(((a - test_actions) ** 2).sum(axis=1).mean()) for a in (with_phase, without)]
    assert err[0] < 0.5 * err[1], err
    study = bc.StudyConfig(demo_counts=(1,), eval_episodes=2, seeds=1, num_envs=2,
                           bc=bc.BCConfig(steps=20))
    short = T.Task("HalfCheetah", lambda n, s, **o: cheetah.make_env(n, s, max_episode_steps=50),
                   cheetah.expert, "gait", phase_features=2)
    assert len(bc.bc_without_phase(study, short)) == 1


def test_expert_labels_are_a_prefix_of_the_expert_episodes(hopper):
    env = hopper.make_env(2, 0, max_episode_steps=HORIZON)
    pool_obs, pool_actions = transitions(rollout(env, hopper.expert, 4, 3))
    obs, actions = bc.expert_labels(env, hopper.expert, 250, 3, episodes=1)  # doubles to 4
    assert obs.shape == (250, 11) and actions.shape == (250, 3)
    np.testing.assert_array_equal(obs, pool_obs[:250])
    np.testing.assert_array_equal(actions, pool_actions[:250])


def test_unknown_task_names_the_argument():
    with pytest.raises(ValueError, match="name: expected one of"):
        T.make_task("walker")
    with pytest.raises(ValueError, match="params"):
        T.GaitExpert(np.zeros(5))


def test_command_runs_on_hopper(tmp_path, capsys, hopper):
    pytest.importorskip("matplotlib")
    bc.main(["--env", "hopper", "--out", str(tmp_path), "--quiet", "--seeds", "1",
             "--demos", "1", "--dagger-iterations", "1", "--eval-episodes", "2",
             "--bc-steps", "20", "--num-envs", "2"])
    out = capsys.readouterr().out
    for name in ("bc-vs-demos.png", "compounding-error.png", "dagger-vs-bc.png", "results.json"):
        assert (tmp_path / name).exists() and name in out
    assert "Hopper: expert" in out
    import json

    results = json.loads((tmp_path / "results.json").read_text())
    assert results["env"] == "Hopper" and len(results["deviation"]["1"]) == 300
