"""Behavioral cloning: the data pipeline and the loss.

An episode is observations (T + 1, O), with the final observation, and actions
(T, A). Shapes: M samples, O observation size, A action size.
"""

import numpy as np
import torch


def episodes_to_pairs(observations: list[np.ndarray],
                      actions: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """All (observation, action) training pairs of a list of episodes: (M, O) and (M, A).

    Action t was taken in observation t; the final observation of each episode
    has no action and is not a training input.
    """
    # BEGIN SOLUTION
    # starter> # Step 1: for each episode pair obs[:-1] with its actions, then concatenate.
    # starter> raise NotImplementedError("not implemented yet")
    obs = np.concatenate([o[:-1] for o in observations])
    return obs, np.concatenate(actions)
    # END SOLUTION


def fit_normalizer(obs: np.ndarray, eps: float = 1e-8) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean (O,) and std (O,) of the training observations.

    A feature that never varies (std < eps) gets std 1, so normalizing it
    centres it instead of dividing by zero.
    """
    # BEGIN SOLUTION
    # starter> # Step 2: mean and std over axis 0; replace tiny stds by 1.
    # starter> raise NotImplementedError("not implemented yet")
    std = obs.std(axis=0)
    return obs.mean(axis=0), np.where(std < eps, 1.0, std)
    # END SOLUTION


def bc_loss(predicted: torch.Tensor, expert: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of the squared error summed over action dimensions: a scalar.

    predicted and expert are (M, A).
    """
    # BEGIN SOLUTION
    # starter> # Step 3: one line.
    # starter> raise NotImplementedError("not implemented yet")
    return ((predicted - expert) ** 2).sum(dim=1).mean()
    # END SOLUTION


def bc_loss_grad(predicted: torch.Tensor, expert: torch.Tensor) -> torch.Tensor:
    """d bc_loss / d predicted, by hand: (M, A)."""
    # BEGIN SOLUTION
    # starter> # Step 4: differentiate the mean of the summed squares; mind the 1/M.
    # starter> raise NotImplementedError("not implemented yet")
    return 2.0 * (predicted - expert) / predicted.shape[0]
    # END SOLUTION
