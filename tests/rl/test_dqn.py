"""hubkit.rl.dqn: pieces checked by hand, a CI smoke run, and the slow CartPole solve."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from hubkit import _ext, runs
from hubkit.rl import dqn

gym = pytest.importorskip("gymnasium")


class _Net(torch.nn.Module):
    """Q(s, .) = s itself: a network whose outputs the test chooses."""

    def forward(self, obs):
        return obs


def _batch(next_obs, reward, done):
    from hubkit.rl import Batch

    t = torch.tensor
    return Batch(None, None, t(reward), t(next_obs), t(done))


def test_td_targets_use_max_of_target_net_without_double():
    batch = _batch([[1.0, 3.0]], [0.5], [False])
    y = dqn.td_targets(_Net(), _Net(), batch, gamma_n=0.5, double=False)
    assert y.tolist() == [0.5 + 0.5 * 3.0]


def test_double_dqn_selects_with_online_and_scores_with_target():
    class Swap(torch.nn.Module):
        def forward(self, obs):
            return obs.flip(1)  # the online net prefers the other action

    batch = _batch([[1.0, 3.0]], [0.0], [False])
    y = dqn.td_targets(Swap(), _Net(), batch, gamma_n=1.0, double=True)
    assert y.tolist() == [1.0]  # online argmax = action 0, target's value of it = 1


def test_td_targets_do_not_bootstrap_from_terminal_states():
    batch = _batch([[1.0, 3.0]], [2.0], [True])
    assert dqn.td_targets(_Net(), _Net(), batch, 0.9, double=True).tolist() == [2.0]


def test_linear_schedule_reaches_end_and_stays():
    assert dqn.linear_schedule(1.0, 0.1, 10, 0) == 1.0
    assert dqn.linear_schedule(1.0, 0.1, 10, 5) == pytest.approx(0.55)
    assert dqn.linear_schedule(1.0, 0.1, 10, 50) == pytest.approx(0.1)


@pytest.mark.parametrize("prioritized", [False, True])
def test_dqn_smoke_run_trains_without_errors(prioritized):
    cfg = dqn.DQNConfig(total_steps=400, learning_starts=100, train_freq=4, gradient_steps=1,
                        target_update_interval=20, hidden=(32,), eval_every=400,
                        eval_episodes=2, prioritized=prioritized, n_step=2 if prioritized else 1)
    result = dqn.train(cfg)
    assert result.steps == 400 and len(result.log) == 1
    assert np.isfinite(result.log[0]["loss"])
    # the logged return is the returned network's greedy return on the same episodes
    again = dqn.evaluate(result.q, lambda: gym.make(cfg.env_id), 2, cfg.seed + 400)
    assert result.log[0]["eval_return"] == float(again.mean())
    torch.manual_seed(cfg.seed)  # the initial network, drawn as train() draws it
    init = dqn.QNetwork(4, 2, cfg.hidden)
    moved = [not torch.equal(a, b)
             for a, b in zip(init.parameters(), result.q.parameters(), strict=True)]
    assert all(moved), "75 gradient steps left a layer untouched"


def test_dqn_uses_the_cpp_buffer_when_built():
    if _ext.cpp_module() is None:
        pytest.skip("hubkit._C not built")
    space = gym.spaces.Box(-1, 1, (4,), np.float32)
    assert dqn.make_buffer(dqn.DQNConfig(), space).backend == "cpp"


@pytest.mark.slow
def test_dqn_solves_cartpole():
    # The time is printed, not asserted (speed lives in benchmarks); it was
    # 14-120 s on 2 shared CPU cores, against the 10-minute goal.
    start = time.perf_counter()
    result = dqn.train(dqn.DQNConfig(backend="cpp", verbose=True))
    seconds = time.perf_counter() - start
    fresh = dqn.evaluate(result.q, "CartPole-v1", 100, seed=123_456)  # episodes never seen
    print(f"solved in {seconds:.0f} s, {result.steps} steps; 100-episode greedy mean "
          f"{fresh.mean():.1f} (min {fresh.min():.0f})")
    assert fresh.mean() >= 475


def test_atari_wrappers_give_stacked_84x84_uint8_frames():
    pytest.importorskip("ale_py", reason="ale-py is not installed (pip install ale-py)")
    from hubkit.rl import atari

    env = atari.make_atari_env("ALE/Pong-v5")
    obs, _ = env.reset(seed=0)
    assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8
    obs, reward, *_ = env.step(env.action_space.sample())
    assert obs.shape == (4, 84, 84) and reward in (-1.0, 0.0, 1.0)
    env.close()


def test_atari_dqn_smoke_run_for_a_few_hundred_steps():
    pytest.importorskip("ale_py", reason="ale-py is not installed (pip install ale-py)")
    from hubkit.rl import atari

    cfg = atari.atari_config(total_steps=300, learning_starts=250, buffer_size=1_000,
                             train_freq=4, target_update_interval=50, exploration_steps=300)
    result = atari.train_atari(cfg)
    assert result.steps == 300
    assert result.q(torch.zeros(1, 4, 84, 84, dtype=torch.uint8)).shape == (1, 6)


def test_dqn_command_has_help_and_writes_only_under_out(tmp_path, monkeypatch, capsys):
    with pytest.raises(SystemExit) as exit_:
        dqn.main(["--help"])
    assert exit_.value.code == 0 and "--out" in capsys.readouterr().out
    monkeypatch.chdir(tmp_path)
    dqn.main(["--total-steps", "300", "--out", str(tmp_path / "run")])
    captured = capsys.readouterr()
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [
        "log.jsonl", "metrics.jsonl", "q_network.pt"]
    assert "step 300/300" in captured.err and "wrote 3 file(s)" in captured.out
    (logged,) = runs.find_runs(tmp_path / "run")  # through hubkit.runlog, every 100 steps
    assert logged.config["total_steps"] == 300 and logged.curve("loss")[0] == [100, 200, 300]
