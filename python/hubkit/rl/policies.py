"""Actor-critic policies for discrete and continuous actions.

The policy gradient needs three things from a policy: a distribution over
actions for a batch of observations (to sample, score log pi(a|s) and
measure entropy), a value V(s) for the critic, and the map from a stored
action to what the env takes. `ActorCritic` holds them for any head:

* `Categorical` (Discrete spaces): logits -> torch's Categorical.
* `Gaussian` (Box spaces): mean from the network, log-std a free parameter
  per action dimension, the same in every state (the PPO paper's choice).
  The env clips the sample to its bounds (`ClipAction` in `hubkit.rl.normalize`).
* `TanhGaussian`: the Gaussian sample u squashed by tanh into the bounds
  (SAC's choice, https://arxiv.org/abs/1801.01290, appendix C). The buffer
  stores u, and log pi(a) = log N(u) - sum log(1 - tanh(u)^2) (change of
  variables); the entropy is that of N (tanh has no closed form for it).

`make_policy(obs_space, act_space)` is the default factory; algorithms take
any `(single_observation_space, single_action_space) -> ActorCritic`.

Shapes: B batch, obs (B, obs_dim); actions (B,) int64 (discrete) or
(B, act_dim) float32; log_prob, entropy, value (B,).

Example:
    >>> import gymnasium as gym, torch
    >>> pi = make_policy(gym.spaces.Box(-1, 1, (3,)), gym.spaces.Discrete(2))
    >>> action, log_prob, value = pi.act(torch.zeros(5, 3))
    >>> action.shape, log_prob.shape, value.shape
    (torch.Size([5]), torch.Size([5]), torch.Size([5]))
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def layer(n_in: int, n_out: int, gain: float = math.sqrt(2)) -> nn.Linear:
    """A Linear layer with orthogonal weights (scaled by `gain`) and zero bias."""
    lin = nn.Linear(n_in, n_out)
    nn.init.orthogonal_(lin.weight, gain)
    nn.init.zeros_(lin.bias)
    return lin


def mlp(sizes: tuple[int, ...], out_gain: float, activation=nn.Tanh) -> nn.Sequential:
    """MLP through `sizes` (in, hidden..., out), `activation` between layers, none at the end.

    The output layer's gain is small for a policy (0.01: near-uniform actions at
    the start) and 1 for a value head (the implementation details of PPO,
    https://iclr-blog-track.github.io/2022/03/25/ppo-implementation-details/).
    """
    mods: list[nn.Module] = []
    for a, b in zip(sizes[:-2], sizes[1:-1], strict=True):
        mods += [layer(a, b), activation()]
    mods.append(layer(sizes[-2], sizes[-1], out_gain))
    return nn.Sequential(*mods)


class DiagGaussian:
    """N(mean, diag(std^2)) over the last dim; log_prob and entropy sum over it (B,).

    torch.distributions.Independent(Normal(...), 1) computes the same numbers; this
    is the formula written out, without the distribution objects' per-call set-up
    and argument checks (a small policy's update runs it thousands of times).
    """

    def __init__(self, mean: torch.Tensor, log_std: torch.Tensor):
        self.mean, self.log_std = mean, log_std.expand_as(mean)

    @property
    def stddev(self) -> torch.Tensor:
        return self.log_std.exp()

    def sample(self) -> torch.Tensor:
        with torch.no_grad():
            return self.mean + self.stddev * torch.randn_like(self.mean)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        z = (x - self.mean) * torch.exp(-self.log_std)
        return (-0.5 * z.pow(2) - self.log_std).sum(-1) - _HALF_LOG_2PI * x.shape[-1]

    def entropy(self) -> torch.Tensor:
        return (0.5 + _HALF_LOG_2PI + self.log_std).sum(-1)


_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class Categorical(nn.Module):
    """Discrete head: features are the logits (B, A)."""

    def forward(self, logits: torch.Tensor) -> torch.distributions.Categorical:
        # validate_args=False: no per-call checks; the logits come from the network
        return torch.distributions.Categorical(logits=logits, validate_args=False)

    def env_action(self, action: torch.Tensor) -> np.ndarray:
        return action.numpy()


class Gaussian(nn.Module):
    """Diagonal Gaussian with a state-independent log-std; features are the means (B, act_dim)."""

    def __init__(self, act_dim: int, init_log_std: float = 0.0):
        super().__init__()
        self.log_std = nn.Parameter(torch.full((act_dim,), float(init_log_std)))

    def forward(self, mean: torch.Tensor) -> DiagGaussian:
        return DiagGaussian(mean, self.log_std)

    def env_action(self, action: torch.Tensor) -> np.ndarray:
        return action.numpy()


class TanhNormal:
    """N(mean, exp(log_std)) squashed by tanh into [low, high]; scores the pre-tanh u."""

    def __init__(self, mean: torch.Tensor, log_std: torch.Tensor):
        self.base = DiagGaussian(mean, log_std)

    def sample(self) -> torch.Tensor:
        return self.base.sample()

    def log_prob(self, u: torch.Tensor) -> torch.Tensor:
        # subtle: log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)), stable for large |u|
        # where 1 - tanh(u)^2 rounds to 0 in float32.
        log_det = 2.0 * (math.log(2.0) - u - F.softplus(-2.0 * u))
        return self.base.log_prob(u) - log_det.sum(-1)

    def entropy(self) -> torch.Tensor:
        return self.base.entropy()  # of the Gaussian before tanh: a common stand-in


class TanhGaussian(Gaussian):
    """Gaussian head whose samples pass through tanh into the action bounds."""

    def __init__(self, act_dim: int, low: np.ndarray, high: np.ndarray,
                 init_log_std: float = 0.0):
        super().__init__(act_dim, init_log_std)
        self.register_buffer("low", torch.as_tensor(low, dtype=torch.float32))
        self.register_buffer("high", torch.as_tensor(high, dtype=torch.float32))

    def forward(self, mean: torch.Tensor) -> TanhNormal:
        return TanhNormal(mean, self.log_std)

    def env_action(self, action: torch.Tensor) -> np.ndarray:
        unit = torch.tanh(action)  # (B, act_dim) in (-1, 1)
        return (self.low + (unit + 1.0) * 0.5 * (self.high - self.low)).numpy()


class ActorCritic(nn.Module):
    """A policy network plus head, and a separate value network.

    Args:
        actor: obs (B, obs_dim) -> head features (logits or means).
        head: `Categorical`, `Gaussian` or `TanhGaussian`.
        critic: obs (B, obs_dim) -> (B, 1) value.
    """

    def __init__(self, actor: nn.Module, head: nn.Module, critic: nn.Module):
        super().__init__()
        self.actor, self.head, self.critic = actor, head, critic

    def distribution(self, obs: torch.Tensor):
        """pi(. | obs) for a batch (B, obs_dim)."""
        return self.head(self.actor(obs))

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        """V(obs) (B,)."""
        return self.critic(obs).squeeze(-1)

    @torch.no_grad()
    def act(self, obs: torch.Tensor, deterministic: bool = False):
        """Sample (or take the mode of) pi(. | obs): (action, log_prob (B,), value (B,))."""
        dist = self.distribution(obs)
        action = _mode(dist) if deterministic else dist.sample()
        return action, dist.log_prob(action), self.value(obs)

    def env_action(self, action: torch.Tensor) -> np.ndarray:
        """Stored actions (B, ...) as the NumPy array the vector env's step takes."""
        return self.head.env_action(action)


def _mode(dist) -> torch.Tensor:
    if isinstance(dist, torch.distributions.Categorical):
        return dist.probs.argmax(-1)
    if isinstance(dist, TanhNormal):
        return dist.base.mean
    return dist.mean


PolicyFactory = Callable[..., ActorCritic]


def make_policy(obs_space, act_space, hidden: tuple[int, ...] = (64, 64),
                tanh_squash: bool = False, init_log_std: float = 0.0) -> ActorCritic:
    """The default ActorCritic for a flat Box observation and a Discrete or Box action space.

    Args:
        obs_space: a single env's observation space (Box).
        act_space: a single env's action space (Discrete or Box).
        hidden: hidden widths of both the actor and the critic MLP (tanh between).
        tanh_squash: Box actions only: TanhGaussian instead of Gaussian.
        init_log_std: Box actions only: the log-std at the start.
    """
    import gymnasium as gym

    obs_dim = int(np.prod(obs_space.shape))
    critic = mlp((obs_dim, *hidden, 1), out_gain=1.0)
    if isinstance(act_space, gym.spaces.Discrete):
        return ActorCritic(mlp((obs_dim, *hidden, int(act_space.n)), 0.01), Categorical(), critic)
    if not isinstance(act_space, gym.spaces.Box) or len(act_space.shape) != 1:
        raise ValueError(f"act_space: expected Discrete or a 1-D Box, got {act_space}")
    act_dim = act_space.shape[0]
    head = (TanhGaussian(act_dim, act_space.low, act_space.high, init_log_std) if tanh_squash
            else Gaussian(act_dim, init_log_std))
    return ActorCritic(mlp((obs_dim, *hidden, act_dim), 0.01), head, critic)
