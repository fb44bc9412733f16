"""Collecting on-policy experience from a Gymnasium vector env, and batching it for updates.

Every policy-gradient method here (REINFORCE, A2C, PPO, and multi-agent PPO
with shared parameters) learns from the same thing: T steps of N envs run
side by side with the current policy. This module owns that part:

* `RolloutBuffer`: preallocated (T, N, ...) tensors, one row per step.
* `Collector`: steps the envs with the policy and fills the buffer.
* `RolloutBuffer.advantages`: GAE (`hubkit.rl.gae`) with time-limit bootstrap.
* `Batch` / `minibatches`: the valid rows, flattened and shuffled.

NEXT_STEP autoreset (Gymnasium 1.x's default; hubkit's MujocoVectorEnv's
mode). The step that ends an episode (terminated or truncated) returns the
episode's *final* observation; the env's next step ignores the action and
returns the reset observation with reward 0. So the row after a done is not
a transition the agent made: it gets `valid = False` and every loss skips it
(`Batch` holds valid rows only). The done row itself has `dones = 1`, so GAE
never reads past it. The reset row still holds V(final observation), which
is exactly what a truncated episode (a time limit, not a failure) should
bootstrap from: `advantages` adds gamma * V(final obs) to a truncated step's
reward before running GAE.

Shapes: T steps, N envs, B = rows in a batch; obs (T, N, *obs_shape),
actions (T, N, *action_shape); everything else (T, N).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields

import numpy as np
import torch

from hubkit.rl.gae import gae


class RolloutBuffer:
    """T steps of N envs in preallocated tensors (float32 unless stated).

    Fields (T, N, ...): obs, actions, log_probs, values, rewards, terminated and
    truncated (bool), valid (bool: a real transition, not a NEXT_STEP reset row).
    """

    def __init__(self, num_steps: int, num_envs: int, obs_shape: tuple[int, ...],
                 action_shape: tuple[int, ...], action_dtype: torch.dtype = torch.float32):
        t, n = num_steps, num_envs
        self.num_steps, self.num_envs = t, n
        self.obs = torch.zeros(t, n, *obs_shape)
        self.actions = torch.zeros(t, n, *action_shape, dtype=action_dtype)
        self.log_probs, self.values, self.rewards = (torch.zeros(t, n) for _ in range(3))
        self.terminated, self.truncated, self.valid = (torch.zeros(t, n, dtype=torch.bool)
                                                       for _ in range(3))

    def add(self, t: int, obs, action, log_prob, value, reward, terminated, truncated,
            valid) -> None:
        """Write step t of every env (obs (N, ...) float32, the rest (N,) tensors or arrays)."""
        self.obs[t], self.actions[t] = obs, action
        self.log_probs[t], self.values[t] = log_prob, value
        self.rewards[t] = torch.as_tensor(reward)
        self.terminated[t] = torch.as_tensor(terminated)
        self.truncated[t] = torch.as_tensor(truncated)
        self.valid[t] = torch.as_tensor(valid)

    @property
    def dones(self) -> torch.Tensor:
        """(T, N) the episode ended at step t (terminated or truncated)."""
        return self.terminated | self.truncated

    def bootstrapped_rewards(self, last_value: torch.Tensor, gamma: float) -> torch.Tensor:
        """Rewards (T, N) with gamma * V(final obs) added where an episode was truncated.

        V(final obs) is the next row's value (NEXT_STEP: the reset row acted on the
        final observation), or `last_value` (N,) after the last step.
        """
        next_values = torch.cat([self.values[1:], last_value[None]])  # (T, N)
        cut = self.truncated & ~self.terminated
        return self.rewards + gamma * next_values * cut

    def advantages(self, last_value: torch.Tensor, gamma: float, lam: float,
                   backend: str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """GAE advantages and value targets (T, N); see the module docstring."""
        rewards = self.bootstrapped_rewards(last_value, gamma)
        return gae(rewards, self.values, self.dones, last_value, gamma, lam, backend=backend)

    def batch(self, advantages: torch.Tensor, returns: torch.Tensor,
              mask: torch.Tensor | None = None) -> Batch:
        """The valid rows (and those in `mask` (T, N), if given) as one flat Batch."""
        keep = self.valid if mask is None else self.valid & mask
        rows = keep.flatten().nonzero().squeeze(1)  # (B,)

        def flat(x: torch.Tensor) -> torch.Tensor:
            return x.reshape(-1, *x.shape[2:])[rows]

        return Batch(flat(self.obs), flat(self.actions), flat(self.log_probs),
                     flat(self.values), flat(advantages), flat(returns))


def episode_complete(dones: torch.Tensor) -> torch.Tensor:
    """(T, N) True where the step's episode ends within the rollout (at t or later).

    REINFORCE's Monte Carlo return is only known for those steps.

    Example:
        >>> episode_complete(torch.tensor([[0], [1], [0]], dtype=torch.bool)).flatten().tolist()
        [True, True, False]
    """
    flipped = dones.flip(0).to(torch.uint8)
    return torch.cummax(flipped, dim=0).values.flip(0).bool()


@dataclass
class Batch:
    """Flattened rows for a loss: obs (B, ...), actions (B, ...), the rest (B,)."""

    obs: torch.Tensor
    actions: torch.Tensor
    log_probs: torch.Tensor
    values: torch.Tensor
    advantages: torch.Tensor
    returns: torch.Tensor

    def __len__(self) -> int:
        return self.obs.shape[0]

    def take(self, rows: torch.Tensor) -> Batch:
        """The rows `rows` (K,) of every field."""
        return Batch(*(getattr(self, f.name)[rows] for f in fields(self)))


def minibatches(batch: Batch, num_minibatches: int,
                gen: torch.Generator) -> Iterator[Batch]:
    """`batch` shuffled with `gen` and cut into `num_minibatches` near-equal parts."""
    order = torch.randperm(len(batch), generator=gen)
    for rows in order.tensor_split(num_minibatches):
        if len(rows):
            yield batch.take(rows)


class Collector:
    """Runs a policy in a NEXT_STEP vector env and fills a RolloutBuffer, T steps at a time.

    Args:
        envs: a gymnasium.vector.VectorEnv with autoreset mode NEXT_STEP, wrapped in
            `RecordEpisodeStatistics` for episode returns (`hubkit.rl.normalize.wrap`).
        policy: has act(obs) -> (action, log_prob, value) and env_action(action).
        num_steps: T.
        seed: seeds the envs' first reset.
    """

    def __init__(self, envs, policy, num_steps: int, seed: int | None):
        import gymnasium as gym

        mode = envs.metadata.get("autoreset_mode", gym.vector.AutoresetMode.NEXT_STEP)
        if mode != gym.vector.AutoresetMode.NEXT_STEP:
            raise ValueError(f"envs: autoreset mode must be NEXT_STEP, got {mode}")
        self.envs, self.policy = envs, policy
        obs_space, act_space = envs.single_observation_space, envs.single_action_space
        discrete = isinstance(act_space, gym.spaces.Discrete)
        self.buffer = RolloutBuffer(num_steps, envs.num_envs, obs_space.shape,
                                    () if discrete else act_space.shape,
                                    torch.int64 if discrete else torch.float32)
        obs, _ = envs.reset(seed=seed)
        self.obs = torch.as_tensor(obs, dtype=torch.float32)
        self.after_done = np.zeros(envs.num_envs, dtype=bool)
        self.episode_returns: list[float] = []
        self.episode_lengths: list[int] = []
        self.steps = 0

    def collect(self) -> torch.Tensor:
        """Fill the buffer with the next T steps; return V of the observation after them (N,)."""
        buf = self.buffer
        for t in range(buf.num_steps):
            action, log_prob, value = self.policy.act(self.obs)
            obs, reward, term, trunc, infos = self.envs.step(self.policy.env_action(action))
            buf.add(t, self.obs, action, log_prob, value, reward, term, trunc,
                    ~self.after_done)
            self.after_done = term | trunc
            self.obs = torch.as_tensor(obs, dtype=torch.float32)
            self._record(infos)
        self.steps += buf.num_steps * buf.num_envs
        with torch.no_grad():
            return self.policy.value(self.obs)

    def _record(self, infos: dict) -> None:
        """Keep the returns and lengths of the episodes that just ended."""
        if "episode" in infos:
            ended = infos["_episode"]
            self.episode_returns += infos["episode"]["r"][ended].tolist()
            self.episode_lengths += infos["episode"]["l"][ended].tolist()
