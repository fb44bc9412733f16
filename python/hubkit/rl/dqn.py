"""Deep Q-Networks: experience replay, a target network and Double DQN.

DQN (Mnih et al. 2015, https://www.nature.com/articles/nature14236) fits
Q(s, a) by regressing on targets y = r + gamma^n (1 - done) max_a' Q_target(s', a'),
with transitions replayed from a buffer (decorrelated, reused) and a target
network copied from the online one every few updates (a fixed regression goal).
Double DQN (van Hasselt et al. 2016, https://arxiv.org/abs/1509.06461) picks a'
with the online network and scores it with the target network, which removes
max's upward bias. Prioritized replay and n-step returns are options.

Shape legend: B batch, A number of actions, obs_dim observation size.

Example:
    >>> cfg = DQNConfig(total_steps=300, learning_starts=100, train_freq=4,
    ...                 gradient_steps=1, eval_every=0)
    >>> result = train(cfg)  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from hubkit import runlog
from hubkit.rl.replay import PrioritizedReplayBuffer, ReplayBuffer


@dataclass
class DQNConfig:
    """DQN hyperparameters; the defaults solve CartPole-v1 on a laptop CPU in minutes."""

    env_id: str = "CartPole-v1"
    """gymnasium id of an env with a Box observation and a Discrete action space."""
    total_steps: int = 100_000
    """Most environment steps to train for (training stops earlier once solved)."""
    learning_starts: int = 1_000
    """Random-action steps that fill the buffer before the first update."""
    buffer_size: int = 100_000
    """Replay capacity."""
    batch_size: int = 64
    """Transitions per gradient step."""
    lr: float = 2.3e-3
    """Adam learning rate."""
    gamma: float = 0.99
    """Discount factor."""
    train_freq: int = 256
    """Environment steps between rounds of updates."""
    gradient_steps: int = 128
    """Gradient steps per round."""
    target_update_interval: int = 10
    """Environment steps between copies of the online network into the target network
    (with train_freq 256 that is one copy after every round of updates)."""
    exploration_steps: int = 8_000
    """Environment steps over which epsilon falls linearly from eps_start to eps_end."""
    eps_start: float = 1.0
    """Initial epsilon."""
    eps_end: float = 0.04
    """Final epsilon."""
    hidden: tuple[int, ...] = (256, 256)
    """Hidden layer widths of the Q-network MLP."""
    double_dqn: bool = True
    """Select a' with the online network, evaluate it with the target network."""
    n_step: int = 1
    """n-step returns (bootstrapped with gamma^n)."""
    prioritized: bool = False
    """Prioritized replay (alpha, beta below) instead of uniform replay."""
    alpha: float = 0.6
    """Priority exponent (prioritized only)."""
    beta: float = 0.4
    """Importance-weight exponent, annealed linearly to 1 (prioritized only)."""
    max_grad_norm: float = 10.0
    """Gradient clipping norm."""
    eval_every: int = 5_000
    """Environment steps between greedy evaluations (0: never evaluate during training)."""
    eval_episodes: int = 10
    """Episodes per evaluation during training."""
    solved_return: float = 475.0
    """Stop when a 100-episode greedy evaluation reaches this mean return."""
    seed: int = 0
    """Seeds torch, the env and the buffer."""
    threads: int = 1
    """torch CPU threads (small networks run fastest on one)."""
    backend: str | None = None
    """Replay backend: "cpp", "reference" or None (C++ when built)."""
    verbose: bool = False
    """Print each evaluation's log row as it happens."""


class QNetwork(nn.Module):
    """MLP from observations (B, obs_dim) to action values (B, A)."""

    def __init__(self, obs_dim: int, n_actions: int, hidden: tuple[int, ...] = (256, 256)):
        super().__init__()
        layers: list[nn.Module] = []
        width = obs_dim
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, n_actions))
        self.net = nn.Sequential(*layers)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(obs.float().flatten(1))


def linear_schedule(start: float, end: float, duration: int, step: int) -> float:
    """start -> end linearly over `duration` steps, then end."""
    frac = min(1.0, step / max(1, duration))
    return start + frac * (end - start)


def greedy_actions(q: nn.Module, obs: np.ndarray) -> np.ndarray:
    """argmax_a Q(obs, a) for a batch of observations (B, obs_dim) -> (B,)."""
    with torch.no_grad():
        return q(torch.as_tensor(obs)).argmax(dim=1).numpy()


def td_targets(q: nn.Module, q_target: nn.Module, batch, gamma_n: float,
               double: bool) -> torch.Tensor:
    """y = r + gamma^n (1 - done) Q_target(s', a'), a' by the online net if double (B,)."""
    with torch.no_grad():
        next_target = q_target(batch.next_obs)  # (B, A)
        if double:
            best = q(batch.next_obs).argmax(dim=1, keepdim=True)  # (B, 1)
        else:
            best = next_target.argmax(dim=1, keepdim=True)
        next_value = next_target.gather(1, best).squeeze(1)
        return batch.reward + gamma_n * (~batch.done).float() * next_value


def update(q, q_target, optimizer, buffer, cfg: DQNConfig, beta: float) -> float:
    """One gradient step on a replayed batch; returns the loss."""
    if buffer.prioritized:
        batch = buffer.sample(cfg.batch_size, beta=beta)
    else:
        batch = buffer.sample(cfg.batch_size)
    targets = td_targets(q, q_target, batch, cfg.gamma**cfg.n_step, cfg.double_dqn)
    q_taken = q(batch.obs).gather(1, batch.action.long()[:, None]).squeeze(1)  # (B,)
    per_item = F.smooth_l1_loss(q_taken, targets, reduction="none")
    weights = batch.weights if buffer.prioritized else torch.ones_like(per_item)
    loss = (weights * per_item).mean()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(q.parameters(), cfg.max_grad_norm)
    optimizer.step()
    if buffer.prioritized:
        td = (q_taken.detach() - targets).abs().numpy().astype(np.float64)
        buffer.update_priorities(batch.indices, td + 1e-6)
    return loss.item()


def evaluate(q: nn.Module, env, episodes: int, seed: int) -> np.ndarray:
    """Greedy returns of `episodes` episodes run side by side in a vector env (episodes,).

    Args:
        q: maps observations (B, ...) to action values (B, A).
        env: a gymnasium id, or a function returning a new (wrapped) env.
        episodes: how many episodes (one per vector-env copy).
        seed: seeds the copies (seed, seed + 1, ...).
    """
    import gymnasium as gym

    make = env if callable(env) else (lambda: gym.make(env))
    envs = gym.vector.SyncVectorEnv([make] * episodes)
    obs, _ = envs.reset(seed=seed)
    returns, finished = np.zeros(episodes), np.zeros(episodes, dtype=bool)
    while not finished.all():
        obs, reward, term, trunc, _ = envs.step(greedy_actions(q, obs))
        returns += np.where(finished, 0.0, reward)
        finished |= term | trunc
    envs.close()
    return returns


@dataclass
class TrainResult:
    """What train() returns: the best network found, its 100-episode mean, and a log."""

    q: nn.Module
    mean_return: float
    steps: int
    seconds: float
    log: list[dict] = field(default_factory=list)


def make_buffer(cfg: DQNConfig, obs_space) -> ReplayBuffer:
    kwargs = dict(obs_dtype=obs_space.dtype, action_shape=(), action_dtype=np.int64,
                  n_step=cfg.n_step, gamma=cfg.gamma, seed=cfg.seed, backend=cfg.backend)
    if cfg.prioritized:
        return PrioritizedReplayBuffer(cfg.buffer_size, obs_space.shape, alpha=cfg.alpha,
                                       beta=cfg.beta, **kwargs)
    return ReplayBuffer(cfg.buffer_size, obs_space.shape, **kwargs)


class _Trainer:
    """The state of one DQN run: env, networks, optimizer, buffer and bookkeeping."""

    def __init__(self, cfg: DQNConfig, make_env, make_q):
        self.cfg, self.make_env = cfg, make_env
        torch.manual_seed(cfg.seed)
        self.env = make_env()
        self.obs, _ = self.env.reset(seed=cfg.seed)
        self.env.action_space.seed(cfg.seed)
        self.q = make_q(self.env.observation_space, int(self.env.action_space.n))
        self.q_target = copy.deepcopy(self.q)
        self.optimizer = torch.optim.Adam(self.q.parameters(), lr=cfg.lr, foreach=True)
        self.buffer = make_buffer(cfg, self.env.observation_space)
        self.rng = np.random.default_rng(cfg.seed)
        self.updates, self.episode_return, self.episode_returns = 0, 0.0, []
        self.best = (-np.inf, copy.deepcopy(self.q))
        self.log: list[dict] = []
        self.start = time.perf_counter()

    def act(self, step: int) -> int:
        cfg = self.cfg
        eps = linear_schedule(cfg.eps_start, cfg.eps_end, cfg.exploration_steps, step)
        if step < cfg.learning_starts or self.rng.random() < eps:
            return int(self.env.action_space.sample())
        return int(greedy_actions(self.q, self.obs[None])[0])

    def collect(self, step: int) -> None:
        action = self.act(step)
        next_obs, reward, term, trunc, _ = self.env.step(action)
        self.buffer.add(self.obs, action, float(reward), next_obs, bool(term), bool(trunc))
        self.episode_return += float(reward)
        self.obs = next_obs
        if term or trunc:
            self.episode_returns.append(self.episode_return)
            self.episode_return = 0.0
            self.obs, _ = self.env.reset()

    def train_round(self, step: int) -> float:
        cfg, loss = self.cfg, float("nan")
        beta = linear_schedule(cfg.beta, 1.0, cfg.total_steps, step)
        for _ in range(cfg.gradient_steps):
            loss = update(self.q, self.q_target, self.optimizer, self.buffer, cfg, beta)
            self.updates += 1
        return loss

    def evaluate(self, step: int, loss: float) -> bool:
        """Quick greedy check; a full 100-episode check when it looks solved. True = solved."""
        cfg = self.cfg
        quick = float(evaluate(self.q, self.make_env, cfg.eval_episodes, cfg.seed + step).mean())
        full = None
        if quick >= cfg.solved_return:
            full = float(evaluate(self.q, self.make_env, 100, cfg.seed + 10**6 + step).mean())
            if full > self.best[0]:
                self.best = (full, copy.deepcopy(self.q))
        recent = float(np.mean(self.episode_returns[-20:])) if self.episode_returns else 0.0
        self.log.append({"step": step, "seconds": round(time.perf_counter() - self.start, 1),
                         "loss": loss, "train_return": recent, "eval_return": quick,
                         "eval100_return": full})
        if cfg.verbose:
            print(self.log[-1], flush=True)
        return full is not None and full >= cfg.solved_return


def train(cfg: DQNConfig | None = None, make_env=None, make_q=None,
          progress: runlog.Progress | None = None) -> TrainResult:
    """Train DQN on cfg.env_id until a 100-episode greedy mean reaches cfg.solved_return.

    Args:
        cfg: hyperparameters.
        make_env: () -> env; default gym.make(cfg.env_id).
        make_q: (observation_space, n_actions) -> Q-network; default an MLP (QNetwork).
        progress: advanced once per environment step (total = cfg.total_steps), with
            the latest loss and evaluation return; one line per evaluation.

    Returns:
        TrainResult with the network that scored best over 100 greedy episodes (the
        last network, with mean_return = nan, if no evaluation ran).
    """
    import gymnasium as gym

    cfg = cfg or DQNConfig()
    make_env = make_env or (lambda: gym.make(cfg.env_id))
    make_q = make_q or (lambda space, n: QNetwork(int(np.prod(space.shape)), n, cfg.hidden))
    threads = torch.get_num_threads()
    torch.set_num_threads(cfg.threads)
    start, loss, t = time.perf_counter(), float("nan"), 0
    try:
        run = _Trainer(cfg, make_env, make_q)
        for t in range(1, cfg.total_steps + 1):
            run.collect(t)
            if t >= cfg.learning_starts and t % cfg.train_freq == 0:
                loss = run.train_round(t)
            if t % cfg.target_update_interval == 0:
                run.q_target.load_state_dict(run.q.state_dict())
            solved = (cfg.eval_every and t >= cfg.learning_starts and t % cfg.eval_every == 0
                      and run.evaluate(t, loss))
            _report(progress, run, t, loss)
            if solved:
                break
        run.env.close()
    finally:
        torch.set_num_threads(threads)
    q, mean = (run.best[1], run.best[0]) if np.isfinite(run.best[0]) else (run.q, float("nan"))
    return TrainResult(q, mean, t, time.perf_counter() - start, run.log)


def _report(progress: runlog.Progress | None, run: _Trainer, step: int, loss: float) -> None:
    if progress is None:
        return
    row = run.log[-1] if run.log and run.log[-1]["step"] == step else None
    if row is not None:
        progress.log(f"step {step}: eval return {row['eval_return']:.1f}, "
                     f"train return {row['train_return']:.1f}, loss {row['loss']:.4g}")
    last = run.log[-1]["eval_return"] if run.log else float("nan")
    progress.update(loss=loss, eval_return=last)


def main(argv: list[str] | None = None) -> None:
    """`python -m hubkit.rl.dqn`: train DQN on CartPole-v1 until solved; write the log."""
    p = runlog.parser("python -m hubkit.rl.dqn", __doc__, "dqn")
    p.add_argument("--env", default=DQNConfig.env_id, help="gymnasium id (Box obs, Discrete act)")
    p.add_argument("--total-steps", type=int, default=DQNConfig.total_steps,
                   help="env steps at most; stops early once solved (default: %(default)s)")
    p.add_argument("--seed", type=int, default=DQNConfig.seed,
                   help="seeds the network, replay, exploration and env (default: %(default)s)")
    p.add_argument("--prioritized", action="store_true", help="prioritized replay")
    args = p.parse_args(argv)
    cfg = DQNConfig(env_id=args.env, total_steps=args.total_steps, seed=args.seed,
                    prioritized=args.prioritized)
    outputs = runlog.Outputs(args.out, "dqn")
    with runlog.quiet_third_party(), runlog.tracker(args, outputs) as track:
        track.config(asdict(cfg))
        # one env step per update: the loss and eval return are logged every 100 steps
        with runlog.Progress(cfg.total_steps, "step", enabled=not args.quiet, tracker=track,
                             track_every=100) as bar:
            result = train(cfg, progress=bar)
    torch.save(result.q.state_dict(), outputs.path("q_network.pt"))
    with outputs.path("log.jsonl").open("w") as f:
        f.writelines(json.dumps(row) + "\n" for row in result.log)
    print(f"mean return over 100 greedy episodes: {result.mean_return:.1f} "
          f"after {result.steps} steps in {result.seconds:.0f} s")
    outputs.report()


if __name__ == "__main__":
    runlog.run_main(main)
