"""Value iteration for a finite MDP, in NumPy.

P[s, a, s'] is the probability of moving from s to s' under action a, R[s, a]
the expected reward, gamma the discount. Shapes: S states, A actions.
"""

import numpy as np


def bellman_backup(P: np.ndarray, R: np.ndarray, gamma: float, V: np.ndarray) -> np.ndarray:
    """Q[s, a] = R[s, a] + gamma * sum_s' P[s, a, s'] * V[s']  ->  (S, A)."""
    # BEGIN SOLUTION
    # starter> # Step 1: one line with `@` (matmul over the last axis of P).
    # starter> raise NotImplementedError("not implemented yet")
    return R + gamma * (P @ V)
    # END SOLUTION


def value_iteration(P: np.ndarray, R: np.ndarray, gamma: float, tol: float = 1e-10,
                    max_iters: int = 100_000) -> tuple[np.ndarray, np.ndarray]:
    """Optimal values V* (S,) and a greedy policy (S,) of action indices.

    Repeat V <- max_a Q[s, a] until no value changes by more than tol, then act
    greedily with respect to the final V.
    """
    # BEGIN SOLUTION
    # starter> # Step 2: start from V = zeros(S); back up, take the max over actions,
    # starter> # stop when max |V_new - V| < tol. Step 3: policy = argmax over actions.
    # starter> raise NotImplementedError("not implemented yet")
    V = np.zeros(P.shape[0])
    for _ in range(max_iters):
        V_new = bellman_backup(P, R, gamma, V).max(axis=1)
        done = np.max(np.abs(V_new - V)) < tol
        V = V_new
        if done:
            break
    return V, bellman_backup(P, R, gamma, V).argmax(axis=1)
    # END SOLUTION
