"""Tabular Q-learning with epsilon-greedy exploration, in NumPy.

Q is an (S, A) array of action values; states and actions are integers.
"""

import numpy as np


def epsilon_greedy(q_row: np.ndarray, eps: float, rng: np.random.Generator) -> int:
    """With probability eps a uniformly random action, else a greedy one (ties at random)."""
    best = np.flatnonzero(q_row == q_row.max())
    return int(best[rng.integers(len(best))])


def q_update(Q: np.ndarray, s: int, a: int, r: float, s_next: int, terminated: bool,
             lr: float, gamma: float) -> float:
    """Q[s, a] += lr * (target - Q[s, a]) in place; return the TD error target - Q[s, a].

    target = r if terminated, else r + gamma * max_a' Q[s_next, a'].
    """
    target = r if terminated else r + gamma * Q[s_next].max()
    td = target - Q[s, a]
    Q[s, a] += lr * td
    return float(td)


def train(env, episodes: int, lr: float = 0.1, gamma: float = 0.99, eps_start: float = 1.0,
          eps_end: float = 0.05, seed: int = 0) -> np.ndarray:
    """Q-learning on a gymnasium env with Discrete spaces; returns Q (S, A).

    eps falls linearly from eps_start to eps_end over the first half of the episodes.
    Reset with `env.reset(seed=seed)` once, then `env.reset()`.
    """
    rng = np.random.default_rng(seed)
    Q = np.zeros((env.observation_space.n, env.action_space.n))
    for episode in range(episodes):
        eps = eps_start + min(1.0, episode / (0.5 * episodes)) * (eps_end - eps_start)
        s, _ = env.reset(seed=seed) if episode == 0 else env.reset()
        done = False
        while not done:
            a = epsilon_greedy(Q[s], eps, rng)
            s_next, r, terminated, truncated, _ = env.step(a)
            q_update(Q, s, a, float(r), s_next, terminated, lr, gamma)
            s, done = s_next, terminated or truncated
    return Q
