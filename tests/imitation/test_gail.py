"""Adversarial imitation (hubkit.imitation.gail): the discriminator, its reward, the hidden env
reward, and the command."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.mujoco
pytest.importorskip("mujoco")
pytest.importorskip("gymnasium")
try:
    from hubkit.envs.vector import load_extension

    load_extension()
except ImportError:
    pytest.skip("hubkit._mujoco was not built", allow_module_level=True)

from hubkit.imitation import gail  # noqa: E402
from hubkit.imitation.demos import Normalizer, transitions  # noqa: E402
from hubkit.imitation.tasks import one_thread as _one_thread  # noqa: E402


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny MLPs: one torch thread (two spin against each other on a shared machine)."""
    with _one_thread():
        yield


def _pairs(n: int, expert: bool, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Observations (n, 3); expert actions tanh of a fixed map of them, else uniform (n, 2)."""
    g = torch.Generator().manual_seed(seed)
    obs = torch.randn(n, 3, generator=g)
    if expert:
        return obs, torch.tanh(obs[:, :2] * 2.0 - obs[:, 2:])
    return obs, torch.rand(n, 2, generator=g) * 2 - 1


def _disc(seed: int = 0) -> gail.Discriminator:
    torch.manual_seed(seed)
    return gail.Discriminator(Normalizer(np.zeros(3), np.ones(3)), act_dim=2, hidden=(32, 32))


def _fit(disc, expert, policy, steps: int, grad_penalty: float = 0.0) -> list[float]:
    opt = torch.optim.Adam(disc.parameters(), lr=3e-3)
    losses = []
    for _ in range(steps):
        loss, stats = gail.discriminator_loss(disc, expert, policy, grad_penalty)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(stats["disc_loss"])
    return losses


@pytest.mark.parametrize("grad_penalty", [0.0, 1.0])
def test_discriminator_loss_falls_on_separable_pairs(grad_penalty):
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(256, 3, generator=g)
    expert = (obs + 2.0, torch.full((256, 2), 0.8))
    policy = (obs - 2.0, torch.full((256, 2), -0.8))
    losses = _fit(_disc(), expert, policy, 150, grad_penalty)
    assert losses[0] > 1.2  # 2 log 2 = 1.39 at chance
    assert losses[-1] < 0.25 * losses[0]
    _, stats = gail.discriminator_loss(_disc(), expert, policy)
    assert 0.3 < stats["expert_prob"] < 0.7  # untrained: near chance


@pytest.mark.parametrize("kind", gail.REWARDS)
def test_reward_is_higher_for_expert_like_pairs_after_training(kind):
    disc = _disc()
    _fit(disc, _pairs(256, True, 0), _pairs(256, False, 1), 200, grad_penalty=1.0)
    r_expert = gail.gail_reward(disc, *_pairs(256, True, 2), kind)
    r_other = gail.gail_reward(disc, *_pairs(256, False, 3), kind)
    assert r_expert.mean() > r_other.mean() + 0.3
    fresh = _disc()
    gap = gail.gail_reward(fresh, *_pairs(256, True, 2), kind).mean() - \
        gail.gail_reward(fresh, *_pairs(256, False, 3), kind).mean()
    assert abs(float(gap)) < 0.5  # the gap is learned, not there from the start


def test_gail_reward_forms_and_bad_kind():
    disc = _disc()
    obs, act = _pairs(8, False, 0)
    logit = disc(obs, act).detach()
    torch.testing.assert_close(gail.gail_reward(disc, obs, act, "logit"), logit)
    d = torch.sigmoid(logit)
    torch.testing.assert_close(gail.gail_reward(disc, obs, act, "positive"), -torch.log(1 - d))
    with pytest.raises(ValueError, match="kind"):
        gail.gail_reward(disc, obs, act, "log_d")


@pytest.fixture(scope="module")
def demos():
    from hubkit.imitation.gail import load_demos

    return load_demos(None, 2, seed=0)


def test_the_learner_gets_the_discriminator_reward_never_the_env_one(demos):
    from hubkit.rl import normalize, onpolicy
    from hubkit.rl.rollout import Collector

    cfg = gail.GAILConfig(eval_every=10**9)
    pcfg = gail.reacher_ppo()
    pcfg.num_envs, pcfg.num_steps = 4, 64  # 4 episodes end inside, so there are reset rows
    envs = gail.HiddenReward(onpolicy.make_train_envs(pcfg))
    obs, act = transitions(demos)
    norm = Normalizer.fit(obs)
    torch.manual_seed(0)
    policy = gail.standardized_policy(norm, (16,), -1.0)(envs.single_observation_space,
                                                          normalize.action_space(envs))
    space = normalize.action_space(envs)
    disc = gail.Discriminator(norm, 2, (16,))
    update = gail.GAILUpdate(disc, (obs, act), cfg, (space.low, space.high), evaluate=None)
    collector = Collector(envs, policy, pcfg.num_steps, seed=0)
    last_value = collector.collect()
    buf = collector.buffer
    assert torch.isnan(buf.rewards).all()  # the env's reward never reaches the buffer
    assert collector.episode_returns and np.isfinite(collector.episode_returns).all()  # measured
    before = [p.detach().clone() for p in policy.parameters()]
    optimizer = torch.optim.Adam(policy.parameters(), lr=3e-4)
    stats = update(policy, optimizer, collector, last_value, pcfg, torch.Generator())
    pairs = update.executed(policy, buf)
    assert pairs[1].abs().max() <= 1.0  # D sees the clipped, executed actions
    expected = gail.gail_reward(disc, *pairs, cfg.reward).view(pcfg.num_steps, pcfg.num_envs)
    torch.testing.assert_close(buf.rewards, torch.where(buf.valid, expected, 0.0))
    assert not buf.valid.all()
    assert np.isfinite(stats["loss"]) and np.isfinite(stats["disc_loss"])
    assert all(torch.isfinite(p).all() for p in policy.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, policy.parameters(), strict=True))


def test_command_runs_a_tiny_budget_into_its_folder(tmp_path, monkeypatch, capsys):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    out = tmp_path / "run"
    gail.main(["--out", str(out), "--quiet", "--steps", "2048", "--seeds", "1",
               "--expert-episodes", "2", "--eval-every", "1024", "--eval-episodes", "4",
               "--bc-steps", "50"])
    assert list(cwd.iterdir()) == []
    for name in ("return.png", "discriminator.png", "results.json", "metrics.jsonl"):
        assert (out / name).stat().st_size > 0, name
    res = json.loads((out / "results.json").read_text())
    run = res["runs"][0]
    assert run["eval_steps"] == [0, 1024, 2048] and len(run["gail_return"]) == 3
    assert len(run["disc_accuracy"]) == 2 and res["mean_returns"]["expert"] > -10
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert any("seed0/disc_accuracy" in row for row in rows)
    text = capsys.readouterr().out
    assert "GAIL after 2048 steps" in text and "wrote" in text


def test_command_reads_demonstrations_from_a_minari_dataset(tmp_path, demos, capsys):
    pytest.importorskip("minari")
    import hubkit.envs  # noqa: F401  (registers hubkit/Reacher-v5)
    from hubkit.imitation.demos import save_minari

    folder = save_minari(demos, "hubkit/reacher-gail-v0", tmp_path / "data", "hubkit/Reacher-v5")
    assert gail.load_demos(str(folder), 2, seed=5)[1].actions.tolist() == \
        demos[1].actions.tolist()
    with pytest.raises(ValueError, match="--demos"):
        gail.load_demos(str(folder), 3, seed=0)
    gail.main(["--out", str(tmp_path / "run"), "--quiet", "--steps", "1024", "--seeds", "1",
               "--expert-episodes", "2", "--demos", str(folder), "--eval-episodes", "2",
               "--bc-steps", "50"])
    res = json.loads((tmp_path / "run" / "results.json").read_text())
    assert res["config"]["demos"] == str(folder)
