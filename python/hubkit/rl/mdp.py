"""Finite MDPs and dynamic programming: policy evaluation, value and policy iteration.

A finite MDP is a transition tensor P[s, a, s'] = Pr(s' | s, a), an expected
reward R[s, a] and a discount gamma. Terminal states absorb with reward 0.
The Bellman expectation equation V = R_pi + gamma P_pi V is linear, so a
policy's values are also the exact solution of (I - gamma P_pi) V = R_pi,
which the tests use as the oracle. Sutton & Barto, Reinforcement Learning: An
Introduction, 2nd ed., ch. 3-4 (http://incompleteideas.net/book/the-book-2nd.html).

Shape legend: S states, A actions; a policy is (S, A) action probabilities.

Example:
    >>> mdp = gridworld(["S..", ".#G"], slip=0.0, gamma=0.9)
    >>> V, policy = value_iteration(mdp)
    >>> round(float(V[0]), 3)   # three steps to reach G's +1
    0.81
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MOVES = ((-1, 0), (0, 1), (1, 0), (0, -1))  # up, right, down, left
ARROWS = "^>v<"


@dataclass
class TabularMDP:
    """A finite MDP.

    Attributes:
        P: (S, A, S) transition probabilities, each P[s, a] sums to 1.
        R: (S, A) expected immediate reward.
        gamma: discount in [0, 1).
        terminal: (S,) bool, states where the episode ends.
        shape: (rows, cols) when the states are grid cells, for printing.
    """

    P: np.ndarray
    R: np.ndarray
    gamma: float
    terminal: np.ndarray
    shape: tuple[int, int] | None = None

    @property
    def n_states(self) -> int:
        return self.P.shape[0]

    @property
    def n_actions(self) -> int:
        return self.P.shape[1]


def _step(grid: list[str], r: int, c: int, move: int) -> tuple[int, int]:
    dr, dc = MOVES[move]
    nr, nc = r + dr, c + dc
    if 0 <= nr < len(grid) and 0 <= nc < len(grid[0]) and grid[nr][nc] != "#":
        return nr, nc
    return r, c  # bumping into a wall or the edge leaves the agent in place


def gridworld(grid: list[str], slip: float = 0.1, gamma: float = 0.95,
              step_reward: float = 0.0, goal_reward: float = 1.0,
              hole_reward: float = -1.0) -> TabularMDP:
    """A gridworld: 'S' start, '.' floor, '#' wall, 'G' goal (+1), 'H' hole (-1).

    Each action moves up/right/down/left; with probability `slip` the agent slides
    to one of the two perpendicular directions instead (slip / 2 each). Entering G
    or H ends the episode. Wall cells are states nobody can reach.
    """
    rows, cols = len(grid), len(grid[0])
    S, A = rows * cols, 4
    P, R = np.zeros((S, A, S)), np.zeros((S, A))
    terminal = np.array([grid[s // cols][s % cols] in "GH" for s in range(S)])
    cell_reward = {"G": goal_reward, "H": hole_reward}
    for s in range(S):
        r, c = divmod(s, cols)
        if terminal[s] or grid[r][c] == "#":
            P[s, :, s] = 1.0  # absorbing, reward 0
            continue
        for a in range(A):
            for move, prob in ((a, 1.0 - slip), ((a + 1) % 4, slip / 2), ((a + 3) % 4, slip / 2)):
                nr, nc = _step(grid, r, c, move)
                P[s, a, nr * cols + nc] += prob
                R[s, a] += prob * (step_reward + cell_reward.get(grid[nr][nc], 0.0))
    return TabularMDP(P, R, gamma, terminal, (rows, cols))


def from_gymnasium(env, gamma: float = 0.99) -> TabularMDP:
    """A TabularMDP from a gymnasium toy-text env's model (`env.unwrapped.P`, e.g. FrozenLake)."""
    model = env.unwrapped.P
    S, A = len(model), len(model[0])
    P, R, terminal = np.zeros((S, A, S)), np.zeros((S, A)), np.zeros(S, dtype=bool)
    for s in range(S):
        for a in range(A):
            for prob, s_next, reward, done in model[s][a]:
                P[s, a, s_next] += prob
                R[s, a] += prob * reward
                terminal[s_next] |= bool(done)
    for s in np.flatnonzero(terminal):  # gymnasium's terminal states loop to themselves
        P[s], R[s] = 0.0, 0.0
        P[s, :, s] = 1.0
    return TabularMDP(P, R, gamma, terminal)


def policy_model(mdp: TabularMDP, policy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """P_pi (S, S) and R_pi (S,) under a stochastic policy (S, A)."""
    return np.einsum("sa,sat->st", policy, mdp.P), (policy * mdp.R).sum(axis=1)


def policy_evaluation_exact(mdp: TabularMDP, policy: np.ndarray) -> np.ndarray:
    """V_pi (S,) by solving the linear system (I - gamma P_pi) V = R_pi."""
    P_pi, R_pi = policy_model(mdp, policy)
    return np.linalg.solve(np.eye(mdp.n_states) - mdp.gamma * P_pi, R_pi)


def policy_evaluation(mdp: TabularMDP, policy: np.ndarray, tol: float = 1e-10,
                      max_iters: int = 100_000) -> np.ndarray:
    """V_pi (S,) by iterating the Bellman expectation backup V <- R_pi + gamma P_pi V."""
    P_pi, R_pi = policy_model(mdp, policy)
    V = np.zeros(mdp.n_states)
    for _ in range(max_iters):
        V_new = R_pi + mdp.gamma * P_pi @ V
        if np.max(np.abs(V_new - V)) < tol:
            return V_new
        V = V_new
    return V


def q_values(mdp: TabularMDP, V: np.ndarray) -> np.ndarray:
    """Q[s, a] = R[s, a] + gamma sum_s' P[s, a, s'] V[s'] (S, A)."""
    return mdp.R + mdp.gamma * mdp.P @ V


def greedy_policy(Q: np.ndarray) -> np.ndarray:
    """Deterministic (S, A) one-hot policy picking argmax_a Q[s, a] (lowest index on ties)."""
    policy = np.zeros_like(Q)
    policy[np.arange(len(Q)), Q.argmax(axis=1)] = 1.0
    return policy


def value_iteration(mdp: TabularMDP, tol: float = 1e-10,
                    max_iters: int = 100_000) -> tuple[np.ndarray, np.ndarray]:
    """Optimal V* (S,) and a greedy policy (S, A) by V <- max_a (R + gamma P V).

    Stops when one sweep changes no value by more than tol.
    """
    V = np.zeros(mdp.n_states)
    for _ in range(max_iters):
        V_new = q_values(mdp, V).max(axis=1)
        if np.max(np.abs(V_new - V)) < tol:
            V = V_new
            break
        V = V_new
    return V, greedy_policy(q_values(mdp, V))


def policy_iteration(mdp: TabularMDP, max_iters: int = 1_000) -> tuple[np.ndarray, np.ndarray]:
    """Optimal V* (S,) and policy (S, A): evaluate exactly, improve greedily, until stable."""
    policy = np.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions)
    for _ in range(max_iters):
        V = policy_evaluation_exact(mdp, policy)
        Q = q_values(mdp, V)
        improved = greedy_policy(Q)
        # subtle: keep the current action where it is already (numerically) best, or two
        # equally good policies can swap forever on rounding noise.
        current = (policy * Q).sum(axis=1)
        keep = (current >= Q.max(axis=1) - 1e-12) & (policy.max(axis=1) == 1.0)
        improved[keep] = policy[keep]
        if np.array_equal(improved, policy):
            break
        policy = improved
    return V, policy


def render_policy(mdp: TabularMDP, policy: np.ndarray) -> str:
    """The greedy action of each grid cell as arrows ('*' on terminal cells)."""
    if mdp.shape is None:
        raise ValueError("mdp: has no grid shape to render")
    rows, cols = mdp.shape
    chars = ["*" if mdp.terminal[s] else ARROWS[int(policy[s].argmax())]
             for s in range(rows * cols)]
    return "\n".join("".join(chars[r * cols:(r + 1) * cols]) for r in range(rows))
