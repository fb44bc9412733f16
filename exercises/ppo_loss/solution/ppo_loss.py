"""The PPO loss: clipped surrogate, clipped value loss and entropy bonus (torch).

Shapes: B rows of a minibatch; every tensor argument is (B,); the result is a scalar.
"""

import torch


def ppo_loss(log_probs: torch.Tensor, old_log_probs: torch.Tensor, advantages: torch.Tensor,
             values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor,
             entropy: torch.Tensor, clip_coef: float, vf_coef: float,
             ent_coef: float) -> torch.Tensor:
    """policy loss + vf_coef * value loss - ent_coef * mean entropy (a scalar to minimize).

    policy loss = -mean(min(rho * A, clip(rho, 1 - clip_coef, 1 + clip_coef) * A)),
                  rho = exp(log_probs - old_log_probs)
    value loss  = 0.5 * mean(max((V - R)^2, (V_clipped - R)^2)),
                  V_clipped = old_values + clip(V - old_values, -clip_coef, clip_coef)
    """
    # BEGIN SOLUTION
    # starter> # Step 1: the ratio rho from the two log-probs.
    # starter> # Step 2: the clipped surrogate (clip the ratio, take the min, negate the mean).
    # starter> # Step 3: the clipped value loss; Step 4: combine with the entropy bonus.
    # starter> raise NotImplementedError("not implemented yet")
    ratio = torch.exp(log_probs - old_log_probs)
    surrogate = torch.min(ratio * advantages,
                          torch.clamp(ratio, 1.0 - clip_coef, 1.0 + clip_coef) * advantages)
    policy_loss = -surrogate.mean()
    clipped_values = old_values + torch.clamp(values - old_values, -clip_coef, clip_coef)
    value_loss = 0.5 * torch.max((values - returns) ** 2, (clipped_values - returns) ** 2).mean()
    return policy_loss + vf_coef * value_loss - ent_coef * entropy.mean()
    # END SOLUTION
