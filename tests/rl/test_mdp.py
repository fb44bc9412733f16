"""hubkit.rl.mdp: dynamic programming checked against the exact linear-system solution."""

from __future__ import annotations

import numpy as np
import pytest

from hubkit.rl import mdp

GRID = ["S..G", ".#.H", "...."]


@pytest.fixture
def grid_mdp():
    return mdp.gridworld(GRID, slip=0.2, gamma=0.95, step_reward=-0.01)


def random_policy(rng, S, A):
    p = rng.random((S, A))
    return p / p.sum(axis=1, keepdims=True)


def test_gridworld_transitions_are_distributions(grid_mdp):
    np.testing.assert_allclose(grid_mdp.P.sum(axis=2), 1.0)
    assert grid_mdp.P.shape == (12, 4, 12) and grid_mdp.R.shape == (12, 4)


def test_gridworld_slip_moves_sideways():
    m = mdp.gridworld(["...", "...", "..."], slip=0.2)
    right = m.P[4, 1]  # centre cell, action right
    np.testing.assert_allclose(right[[5, 1, 7]], [0.8, 0.1, 0.1])


def test_policy_evaluation_matches_linear_solve(grid_mdp):
    policy = random_policy(np.random.default_rng(0), 12, 4)
    V_iter = mdp.policy_evaluation(grid_mdp, policy, tol=1e-12)
    V_exact = mdp.policy_evaluation_exact(grid_mdp, policy)
    np.testing.assert_allclose(V_iter, V_exact, atol=1e-9)


def test_value_iteration_satisfies_bellman_optimality(grid_mdp):
    V, policy = mdp.value_iteration(grid_mdp)
    np.testing.assert_allclose(V, mdp.q_values(grid_mdp, V).max(axis=1), atol=1e-9)
    np.testing.assert_allclose(mdp.policy_evaluation_exact(grid_mdp, policy), V, atol=1e-8)


def test_value_iteration_policy_beats_random_policies(grid_mdp):
    V, _ = mdp.value_iteration(grid_mdp)
    rng = np.random.default_rng(1)
    for _ in range(20):
        V_rand = mdp.policy_evaluation_exact(grid_mdp, random_policy(rng, 12, 4))
        assert np.all(V >= V_rand - 1e-9)


def test_policy_iteration_agrees_with_value_iteration(grid_mdp):
    V_vi, pi_vi = mdp.value_iteration(grid_mdp)
    V_pi, pi_pi = mdp.policy_iteration(grid_mdp)
    np.testing.assert_allclose(V_pi, V_vi, atol=1e-8)
    np.testing.assert_allclose(mdp.policy_evaluation_exact(grid_mdp, pi_pi), V_vi, atol=1e-8)


def test_deterministic_grid_value_is_discounted_distance():
    m = mdp.gridworld(["S..", ".#G"], slip=0.0, gamma=0.9)
    V, policy = mdp.value_iteration(m)
    assert V[0] == pytest.approx(0.9**2)  # reward on the third move, discounted twice
    assert mdp.render_policy(m, policy).splitlines()[1][2] == "*"


def test_frozenlake_model_matches_gymnasium_dynamics():
    gym = pytest.importorskip("gymnasium")
    env = gym.make("FrozenLake-v1")
    m = mdp.from_gymnasium(env, gamma=0.99)
    np.testing.assert_allclose(m.P.sum(axis=2), 1.0)
    V, policy = mdp.value_iteration(m)
    np.testing.assert_allclose(mdp.policy_evaluation_exact(m, policy), V, atol=1e-8)
    V_pi, _ = mdp.policy_iteration(m)
    np.testing.assert_allclose(V_pi, V, atol=1e-8)
    assert 0.5 < V[0] < 0.6  # the slippery 4x4 map's optimal success is about 0.54 at gamma .99
