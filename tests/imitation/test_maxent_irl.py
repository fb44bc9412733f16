"""MaxEnt IRL: the soft backward pass, the visitation forward pass, and the recovered reward."""

import itertools
import json

import numpy as np
import pytest

from hubkit.imitation import maxent_irl as M
from hubkit.rl import mdp as mdps


def _random_mdp(seed: int, S: int = 6, A: int = 3):
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(S), size=(S, A))
    terminal = np.zeros(S, dtype=bool)
    terminal[-1] = True
    return P, terminal, rng.normal(size=S)


def test_soft_policy_is_a_distribution_and_uniform_without_reward():
    P, terminal, reward = _random_mdp(0)
    policy = M.soft_value_iteration(P, terminal, reward, horizon=7)
    assert policy.shape == (7, 6, 3)
    np.testing.assert_allclose(policy.sum(axis=2), 1.0)
    assert not np.allclose(policy[0], 1 / 3)  # the reward matters
    no_end = np.zeros(6, dtype=bool)  # every action sequence then has the same reward, 0
    np.testing.assert_allclose(M.soft_value_iteration(P, no_end, np.zeros(6), horizon=7), 1 / 3)


def test_visitation_matches_sampled_paths():
    P, terminal, reward = _random_mdp(1)
    T = 6
    policy = M.soft_value_iteration(P, terminal, reward, T)
    start = np.array([0.5, 0.5, 0, 0, 0, 0])
    D = M.state_visitation(P, terminal, policy, start)
    rng = np.random.default_rng(0)
    n = 40_000

    def draw(probs):  # one categorical sample per row of (n, K) probabilities
        below = probs.cumsum(axis=1) < rng.random((len(probs), 1))
        return below.sum(axis=1).clip(max=probs.shape[1] - 1)

    s = draw(np.tile(start, (n, 1)))
    alive = np.ones(n, dtype=bool)
    counts = np.bincount(s, minlength=6).astype(float)
    for t in range(T - 1):
        alive &= ~terminal[s]
        a = draw(policy[t, s])
        s = np.where(alive, draw(P[s, a]), s)
        counts += np.bincount(s[alive], minlength=6)
    np.testing.assert_allclose(D, counts / n, atol=0.02)
    assert D.sum() <= T + 1e-9


def _log_partition(P, reward, T, start_state):
    """log sum over every action sequence of exp(path reward), deterministic P, no terminals."""
    S, A, _ = P.shape
    nxt = P.argmax(axis=2)
    total = []
    for actions in itertools.product(range(A), repeat=T - 1):
        s, r = start_state, reward[start_state]
        for a in actions:
            s = nxt[s, a]
            r += reward[s]
        total.append(r)
    top = max(total)
    return top + np.log(np.sum(np.exp(np.array(total) - top)))


def test_visitation_is_the_gradient_of_the_log_partition_function():
    """In a deterministic MDP, D(s) = d log Z / d r(s): the identity behind the IRL gradient."""
    m = mdps.gridworld(["S..", ".#."], slip=0.0)
    terminal = np.zeros(m.n_states, dtype=bool)
    reward = np.random.default_rng(2).normal(size=m.n_states) * 0.5
    T = 4
    D = M.state_visitation(m.P, terminal, M.soft_value_iteration(m.P, terminal, reward, T),
                           np.eye(m.n_states)[0])
    eps = 1e-6
    log_z = [(_log_partition(m.P, reward + eps * e, T, 0),
              _log_partition(m.P, reward - eps * e, T, 0)) for e in np.eye(m.n_states)]
    fd = [(up - down) / (2 * eps) for up, down in log_z]
    np.testing.assert_allclose(D, fd, atol=1e-6)


def test_gradient_vanishes_when_the_expert_is_the_model():
    P, terminal, reward = _random_mdp(3)
    T, start = 5, np.eye(6)[0]
    D = M.state_visitation(P, terminal, M.soft_value_iteration(P, terminal, reward, T), start)
    grad = M.irl_gradient(P, terminal, np.eye(6), reward, D, start, T)
    np.testing.assert_allclose(grad, 0.0, atol=1e-12)


def test_recovered_reward_reproduces_the_expert():
    result, mdp = M.run(M.IRLConfig())
    assert result.agreement == 1.0  # on every state the demonstrations visit
    assert result.learned_value >= result.expert_value - 1e-9
    goal = "".join(M.GRID).index("G")
    assert result.theta.argmax() == goal
    assert result.final_grad_norm < 0.1


def test_command_writes_heatmap_and_figures(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    M.main(["--out", str(tmp_path), "--quiet", "--iterations", "50"])
    out = capsys.readouterr().out
    assert "reward.png" in out and "policy agreement" in out
    summary = json.loads((tmp_path / "results.json").read_text())
    assert len(summary["reward"]) == 25
    assert (tmp_path / "reward.png").stat().st_size > 1000
