"""A vector-env wrapper that appends an open-loop gait's phase to the observation.

A gait a_j(t) = b_j + A_j sin(w t + phi_j) acts on time, not on the state; a
policy that is to copy it needs the time. `PhaseObservation` gives it as
(sin w t, cos w t), the two features from which every joint's sinusoid is a
linear function: sin(w t + phi) = cos(phi) sin(w t) + sin(phi) cos(w t)
(`hubkit.imitation.tasks.GaitExpert` reads its actions from them).

Shapes: N envs, O observation size.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np


class PhaseObservation(gym.vector.VectorObservationWrapper):
    """Append the gait phase (sin w t, cos w t) to every observation: (N, O) -> (N, O + 2).

    t is the env's step in its episode (0 at reset, also after a NEXT_STEP
    autoreset), read from the C++ env's counters, so the phase restarts with
    every episode exactly as `hubkit.envs.controllers.gait_actions` counts time.
    """

    def __init__(self, env, frequency: float) -> None:
        super().__init__(env)
        dt = env.model.opt.timestep * env.task_spec.frame_skip
        self.omega = 2 * np.pi * float(frequency) * dt  # radians per env step
        inner = env.single_observation_space
        self.single_observation_space = gym.spaces.Box(-np.inf, np.inf, (inner.shape[0] + 2,),
                                                       dtype=inner.dtype)
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space,
                                                              env.num_envs)

    def observations(self, observations: np.ndarray) -> np.ndarray:
        angle = self.omega * np.asarray(self.env.core.episode_steps, dtype=np.float64)  # (N,)
        return np.concatenate([observations, np.sin(angle)[:, None], np.cos(angle)[:, None]],
                              axis=1)
