"""Reinforcement learning: MDPs, tabular Q-learning, replay buffers and DQN.

Modules: `mdp` (gridworld, policy/value iteration), `qlearning` (tabular,
epsilon-greedy), `replay` (uniform and prioritized replay, C++ or NumPy),
`dqn` (DQN / Double DQN on CartPole), `atari` (DQN on Atari with the
standard wrappers); policy gradients: `gae` (the op), `rollout`, `policies`,
`normalize`, `reinforce`, `a2c`, `ppo`. gymnasium is imported only inside the
functions that need it.
"""

from hubkit.rl.gae import gae
from hubkit.rl.replay import Batch, PrioritizedBatch, PrioritizedReplayBuffer, ReplayBuffer

__all__ = ["Batch", "PrioritizedBatch", "PrioritizedReplayBuffer", "ReplayBuffer", "gae"]
