"""The REINFORCE loss over a rollout of T steps of N envs (torch).

Shapes: logits (T, N, A), actions (T, N) int64, rewards, dones, baseline (T, N);
the result is a scalar.
"""

import torch


def reinforce_loss(logits: torch.Tensor, actions: torch.Tensor, rewards: torch.Tensor,
                   dones: torch.Tensor, baseline: torch.Tensor, gamma: float) -> torch.Tensor:
    """-mean((G_t - b_t) * log pi(a_t | s_t)) over all T * N steps.

    G_t = r_t + gamma * (1 - done_t) * G_{t+1}, with G_T = 0: the discounted reward
    to go, which stops at the end of the step's episode (done_t = 1 at its last step).
    The baseline is not trained through this loss (detach it).
    """
    # BEGIN SOLUTION
    # starter> # Step 1: G_t for every step, looping t from T-1 down to 0.
    # starter> # Step 2: log pi(a_t | s_t): log_softmax of the logits, at the action taken.
    # starter> # Step 3: -mean((G - baseline) * log pi), the baseline detached.
    # starter> raise NotImplementedError("not implemented yet")
    returns = torch.zeros_like(rewards)
    future = torch.zeros_like(rewards[0])  # G_{t+1} of every env
    for t in reversed(range(rewards.shape[0])):
        future = rewards[t] + gamma * (1.0 - dones[t]) * future
        returns[t] = future
    log_probs = torch.log_softmax(logits, dim=-1).gather(-1, actions[..., None]).squeeze(-1)
    return -((returns - baseline.detach()) * log_probs).mean()
    # END SOLUTION
