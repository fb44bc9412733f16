"""Maximum-entropy inverse RL: the two passes and the gradient, in NumPy.

P[s, a, s'] are transition probabilities, terminal[s] marks the states where a
path ends, reward[s] is the reward for being in state s. A path has at most T
states. Shapes: S states, A actions, F features, T horizon.
"""

import numpy as np


def soft_value_iteration(P: np.ndarray, terminal: np.ndarray, reward: np.ndarray,
                         horizon: int) -> np.ndarray:
    """The maximum-entropy policy, one per time step: (T, S, A).

    With V_1 = reward, for k = 2 .. T states left:
        Q_k(s, a) = reward[s] + sum_s' P[s, a, s'] V_{k-1}(s')
        V_k(s) = log sum_a exp Q_k(s, a), except V_k(s) = reward[s] at a terminal s
    and the policy for the t-th state of a path (k = T - t states left) is
    exp(Q_k(s, a) - V_k(s)). The last row (t = T - 1) is uniform.
    """
    # BEGIN SOLUTION
    # starter> # Step 1: policy = np.full((T, S, A), 1 / A); V = reward.copy();
    # starter> # for t from T - 2 down to 0: Q, a stable logsumexp over actions, policy[t],
    # starter> # then V = np.where(terminal, reward, V_new).
    # starter> raise NotImplementedError("not implemented yet")
    S, A, _ = P.shape
    policy = np.full((horizon, S, A), 1.0 / A)
    V = reward.astype(np.float64).copy()
    for t in range(horizon - 2, -1, -1):
        Q = reward[:, None] + P @ V
        top = Q.max(axis=1, keepdims=True)
        V_new = top[:, 0] + np.log(np.exp(Q - top).sum(axis=1))
        policy[t] = np.exp(Q - V_new[:, None])
        V = np.where(terminal, reward, V_new)
    return policy
    # END SOLUTION


def state_visitation(P: np.ndarray, terminal: np.ndarray, policy: np.ndarray,
                     start: np.ndarray) -> np.ndarray:
    """Expected visits to each state in a path of T states: (S,).

    D_0 = start; D_{t+1}(s') = sum over non-terminal s and all a of
    D_t(s) policy[t, s, a] P[s, a, s']; return D_0 + D_1 + ... + D_{T-1}.
    """
    # BEGIN SOLUTION
    # starter> # Step 2: keep D_t and a running total; mass in a terminal state stays
    # starter> # counted where it arrived but moves no further.
    # starter> raise NotImplementedError("not implemented yet")
    D_t = start.astype(np.float64).copy()
    total = D_t.copy()
    for t in range(policy.shape[0] - 1):
        flow = np.where(terminal, 0.0, D_t)[:, None] * policy[t]
        D_t = np.einsum("sa,sat->t", flow, P)
        total += D_t
    return total
    # END SOLUTION


def irl_gradient(P: np.ndarray, terminal: np.ndarray, features: np.ndarray, theta: np.ndarray,
                 expert_counts: np.ndarray, start: np.ndarray, horizon: int) -> np.ndarray:
    """d log-likelihood / d theta for reward = features @ theta: (F,).

    The expert's feature counts minus the counts the soft-optimal policy of the
    current reward expects: expert_counts - features.T @ D.
    """
    # BEGIN SOLUTION
    # starter> # Step 3: the reward, the policy, the visitation, the difference.
    # starter> raise NotImplementedError("not implemented yet")
    policy = soft_value_iteration(P, terminal, features @ theta, horizon)
    return expert_counts - features.T @ state_visitation(P, terminal, policy, start)
    # END SOLUTION
