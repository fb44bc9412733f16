"""hubkit.rl.qlearning: tabular Q-learning on FrozenLake, checked against value iteration."""

from __future__ import annotations

import numpy as np
import pytest

from hubkit import runs
from hubkit.rl import mdp, qlearning

gym = pytest.importorskip("gymnasium")


def test_q_update_moves_towards_the_td_target():
    Q = np.zeros((3, 2))
    Q[1] = [2.0, 4.0]
    td = qlearning.q_update(Q, 0, 1, 1.0, 1, False, lr=0.5, gamma=0.5)
    assert td == pytest.approx(3.0) and Q[0, 1] == pytest.approx(1.5)
    qlearning.q_update(Q, 2, 0, 1.0, 1, True, lr=1.0, gamma=0.5)
    assert Q[2, 0] == pytest.approx(1.0)  # terminal: no bootstrap


def test_epsilon_greedy_explores_at_rate_eps():
    rng = np.random.default_rng(0)
    q_row = np.array([0.0, 1.0, 0.0, 0.0])
    actions = np.array([qlearning.epsilon_greedy(q_row, 0.4, rng) for _ in range(20_000)])
    # greedy 0.6 + random 0.4 / 4
    assert np.mean(actions == 1) == pytest.approx(0.7, abs=0.015)


def test_epsilon_greedy_breaks_ties_at_random():
    rng = np.random.default_rng(0)
    actions = {qlearning.epsilon_greedy(np.zeros(4), 0.0, rng) for _ in range(200)}
    assert actions == {0, 1, 2, 3}


def test_q_learning_nearly_matches_value_iteration_on_slippery_frozenlake():
    cfg = qlearning.QLearningConfig(episodes=3_000, seed=0)
    Q, returns = qlearning.train(cfg)
    model = mdp.from_gymnasium(qlearning.make_env(cfg), gamma=cfg.gamma)
    V_star, _ = mdp.value_iteration(model)
    V_learned = mdp.policy_evaluation_exact(model, mdp.greedy_policy(Q))
    assert V_learned[0] >= 0.9 * V_star[0]
    assert returns[-500:].mean() > returns[:500].mean()


def test_exploration_study_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    cfg = qlearning.QLearningConfig(episodes=300, is_slippery=False)
    results = qlearning.exploration_study(epsilons=(0.0, 1.0), seeds=(0,), cfg=cfg)
    assert set(results) == {"eps=0", "eps=1", "eps 1->0.05"}
    assert results["eps=1"]["curve"].shape == (300,)
    path = tmp_path / "study.png"
    qlearning.plot_study(results, path, window=20)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_qlearning_command_has_help_and_writes_only_under_out(tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    with pytest.raises(SystemExit) as exit_:
        qlearning.main(["--help"])
    assert exit_.value.code == 0 and "--out" in capsys.readouterr().out
    monkeypatch.chdir(tmp_path)
    qlearning.main(["--episodes", "50", "--out", str(tmp_path / "run")])
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [
        "exploration.png", "metrics.jsonl"]
    assert "wrote 2 file(s)" in capsys.readouterr().out
    (logged,) = runs.find_runs(tmp_path / "run")  # through hubkit.runlog: one step per run
    assert logged.config["episodes"] == 50 and logged.curve("greedy_success")[0] == list(
        range(1, 19))
