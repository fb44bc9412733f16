"""Demonstrations (rollout, Minari round-trip, preprocessing), behavioral cloning and DAgger."""

import numpy as np
import pytest
import torch

pytest.importorskip("mujoco")
pytest.importorskip("gymnasium")

from hubkit.imitation import bc  # noqa: E402
from hubkit.imitation import demos as D  # noqa: E402


@pytest.fixture(scope="module")
def env():
    from hubkit.envs.vector import MujocoVectorEnv

    return MujocoVectorEnv("Reacher", num_envs=3, seed=0)


@pytest.fixture(scope="module")
def expert_episodes(env):
    return D.rollout(env, bc.expert_policy, 8, seed=0)


def test_rollout_keeps_each_episode_whole(expert_episodes):
    assert len(expert_episodes) == 8
    for ep in expert_episodes:
        assert ep.observations.shape == (51, 10) and ep.actions.shape == (50, 2)
        assert ep.truncations[-1] and not ep.truncations[:-1].any() and not ep.terminations.any()
        # the target (obs[4:6]) is fixed within an episode: no step of a neighbouring
        # episode (NEXT_STEP autoreset) leaked in
        assert np.array_equal(ep.observations[:, 4:6], np.repeat(ep.observations[:1, 4:6], 51, 0))
        np.testing.assert_allclose(ep.actions, bc.expert_policy(ep.observations[:-1]))
    targets = {tuple(np.round(ep.observations[0, 4:6], 6)) for ep in expert_episodes}
    assert len(targets) == 8


def test_rollout_with_a_labeler_stores_the_labels_and_executes_the_policy(env):
    lazy = D.rollout(env, lambda o: np.zeros((len(o), 2)), 3, seed=1, labeler=bc.expert_policy)
    for ep in lazy:
        np.testing.assert_allclose(ep.actions, bc.expert_policy(ep.observations[:-1]))
        np.testing.assert_allclose(ep.observations[:, 6:8][:2], 0.0, atol=0.2)  # idle arm
    assert np.abs(lazy[0].observations[-1, 8:10]).sum() > 0.02  # it did not reach


def test_minari_round_trip(tmp_path, expert_episodes):
    minari = pytest.importorskip("minari")
    pytest.importorskip("h5py")
    import hubkit.envs  # noqa: F401  (registers hubkit/Reacher-v5)

    folder = D.save_minari(expert_episodes, "hubkit/reacher-expert-v0", tmp_path,
                           "hubkit/Reacher-v5")
    assert (folder / "data" / "main_data.hdf5").exists()
    for loaded in (D.load_minari("hubkit/reacher-expert-v0", tmp_path),
                   D.load_minari_hdf5("hubkit/reacher-expert-v0", tmp_path)):
        assert len(loaded) == len(expert_episodes)
        for a, b in zip(expert_episodes, loaded, strict=True):
            for key in ("observations", "actions", "rewards", "terminations", "truncations"):
                np.testing.assert_array_equal(getattr(a, key), getattr(b, key))
    import os

    os.environ["MINARI_DATASETS_PATH"] = str(tmp_path)
    try:
        dataset = minari.load_dataset("hubkit/reacher-expert-v0")
        assert dataset.total_episodes == 8 and dataset.total_steps == 400
        assert dataset.spec.env_spec.id == "hubkit/Reacher-v5"
    finally:
        del os.environ["MINARI_DATASETS_PATH"]
    with pytest.raises(ValueError, match="dataset_id"):
        D.save_minari(expert_episodes, "no-namespace", tmp_path, "hubkit/Reacher-v5")


def test_normalizer_and_frame_stacking():
    x = np.random.default_rng(0).normal(3.0, 2.0, size=(500, 3))
    x[:, 2] = 7.0  # a constant feature
    norm = D.Normalizer.fit(x)
    z = norm(x)
    np.testing.assert_allclose(z[:, :2].mean(axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose(z[:, :2].std(axis=0), 1.0, atol=1e-9)
    np.testing.assert_array_equal(z[:, 2], 0.0)
    frames = np.arange(5)[:, None, None, None] * np.ones((5, 2, 2, 1))
    stacked = D.stack_frames(frames, 3)
    assert stacked.shape == (5, 2, 2, 3)
    np.testing.assert_array_equal(stacked[0, 0, 0], [0, 0, 0])
    np.testing.assert_array_equal(stacked[4, 0, 0], [2, 3, 4])
    with pytest.raises(ValueError, match="k:"):
        D.stack_frames(frames, 0)


def test_bc_imitates_the_expert(env, expert_episodes):
    obs, actions = D.transitions(expert_episodes)
    policy = bc.fit_policy(obs[:300], actions[:300], bc.BCConfig(steps=800))
    held_out = policy.act(obs[300:]) - actions[300:]
    assert float((held_out ** 2).sum(axis=1).mean()) < 0.05
    state = policy.state_dict()
    assert {"obs_mean", "obs_std"} <= set(state)  # the normalizer travels with the weights
    x = torch.as_tensor(obs[:16], dtype=torch.float32)
    y = torch.as_tensor(actions[:16], dtype=torch.float32)
    assert torch.isclose(bc.bc_loss(policy, x, y), ((policy(x) - y) ** 2).sum(1).mean())


def test_dagger_aggregates_and_relabels(env):
    seen = []
    cfg = bc.DAggerConfig(initial_episodes=1, iterations=2, episodes_per_iteration=1,
                          bc=bc.BCConfig(steps=50))
    _, sizes = bc.dagger(env, bc.expert_policy, cfg, seed=0,
                         on_iteration=lambda i, p, n: seen.append((i, n)))
    assert sizes == [50, 100, 150]  # aggregation: the data set only grows
    assert seen == [(0, 50), (1, 100), (2, 150)]
    a, b = np.zeros((2, 3)), np.ones((1, 3))
    obs, act = bc.dagger_aggregate(a, a[:, :1], b, b[:, :1])
    np.testing.assert_array_equal(obs, [[0, 0, 0], [0, 0, 0], [1, 1, 1]])


def test_command_writes_the_three_plots(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    bc.main(["--out", str(tmp_path), "--quiet", "--seeds", "1", "--demos", "1,2",
             "--dagger-iterations", "1", "--eval-episodes", "3", "--bc-steps", "30"])
    out = capsys.readouterr().out
    for name in ("bc-vs-demos.png", "compounding-error.png", "dagger-vs-bc.png", "results.json"):
        assert (tmp_path / name).exists() and name in out
    assert "DAgger" in out and "expert" in out
