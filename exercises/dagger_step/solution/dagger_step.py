"""One DAgger iteration: label the learner's states with the expert, aggregate, retrain.

Shapes: N samples already in the data set, M new states, O observation size,
A action size.
"""

import numpy as np


def aggregate(data_obs: np.ndarray, data_actions: np.ndarray, new_obs: np.ndarray,
              new_actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The data set with the new pairs added after the old ones: (N + M, O), (N + M, A)."""
    # BEGIN SOLUTION
    # starter> # Step 1: keep every old pair, append the new ones, same order in both arrays.
    # starter> raise NotImplementedError("not implemented yet")
    return np.concatenate([data_obs, new_obs]), np.concatenate([data_actions, new_actions])
    # END SOLUTION


def dagger_step(data_obs: np.ndarray, data_actions: np.ndarray, visited_obs: np.ndarray,
                learner_actions: np.ndarray, expert, fit):
    """One DAgger iteration.

    Args:
        data_obs, data_actions: the data set so far (N, O) and (N, A).
        visited_obs: (M, O) the states the current learner reached when it acted.
        learner_actions: (M, A) what the learner did there.
        expert: expert(obs (M, O)) -> (M, A), the labeler.
        fit: fit(obs, actions) -> a new policy trained on those pairs.

    Returns:
        (new_policy, obs, actions): the retrained policy and the aggregated data set.
    """
    # BEGIN SOLUTION
    # starter> # Step 2: the labels are the expert's actions in the learner's states;
    # starter> # aggregate them with the old data; retrain on all of it.
    # starter> raise NotImplementedError("not implemented yet")
    labels = np.asarray(expert(visited_obs))
    obs, actions = aggregate(data_obs, data_actions, visited_obs, labels)
    return fit(obs, actions), obs, actions
    # END SOLUTION
