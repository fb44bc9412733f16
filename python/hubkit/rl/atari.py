"""DQN on Atari with the standard preprocessing wrappers (Mnih et al. 2015).

The wrappers turn a 210x160 RGB, 60 Hz game into what the Nature DQN saw:
NoopReset (up to 30 random no-ops after reset), MaxAndSkip (repeat each action
4 frames, max over the last two to remove flicker), EpisodicLife (a lost life
ends the learning episode), FireReset (press FIRE where a game waits for it),
WarpFrame (84x84 grayscale), ClipReward (sign of the reward) and a stack of
the last 4 frames. The Q-network is the Nature CNN. The training loop is
`hubkit.rl.dqn.train` with these pieces plugged in; replay stores uint8 frames.

Needs `ale-py` (which ships the ROMs): `pip install ale-py`. gymnasium and
ale_py are imported inside the functions.

Shape legend: B batch, C stacked frames (4), H = W = 84, A actions.

Run: `python -m hubkit.rl.atari --env ALE/Pong-v5 --steps 2000000 --out runs/pong`
(hours on a CPU).
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from hubkit import runlog
from hubkit.rl.dqn import DQNConfig, TrainResult, train


def atari_config(**overrides) -> DQNConfig:
    """The Nature/Double-DQN Atari hyperparameters (laptop-sized buffer), with overrides."""
    base = DQNConfig(env_id="ALE/Pong-v5", total_steps=2_000_000, learning_starts=50_000,
                     buffer_size=200_000, batch_size=32, lr=1e-4, gamma=0.99, train_freq=4,
                     gradient_steps=1, target_update_interval=10_000, exploration_steps=250_000,
                     eps_end=0.01, double_dqn=True, eval_every=0, solved_return=21.0)
    return replace(base, **overrides)


class NatureCNN(nn.Module):
    """Q-network of Mnih et al. 2015: (B, 4, 84, 84) uint8 frames -> (B, A) values."""

    def __init__(self, n_actions: int, frames: int = 4):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(frames, 32, 8, stride=4), nn.ReLU(),   # (B, 32, 20, 20)
            nn.Conv2d(32, 64, 4, stride=2), nn.ReLU(),       # (B, 64, 9, 9)
            nn.Conv2d(64, 64, 3, stride=1), nn.ReLU(),       # (B, 64, 7, 7)
            nn.Flatten(), nn.Linear(64 * 7 * 7, 512), nn.ReLU(), nn.Linear(512, n_actions))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(obs.float() / 255.0)


def _wrappers():
    """The wrapper classes, defined on first use so gymnasium is imported lazily."""
    import gymnasium as gym

    class NoopReset(gym.Wrapper):
        def __init__(self, env, noop_max=30):
            super().__init__(env)
            self.noop_max = noop_max

        def reset(self, **kwargs):
            obs, info = self.env.reset(**kwargs)
            for _ in range(self.env.unwrapped.np_random.integers(1, self.noop_max + 1)):
                obs, _, term, trunc, info = self.env.step(0)
                if term or trunc:
                    obs, info = self.env.reset()
            return obs, info

    class MaxAndSkip(gym.Wrapper):
        def __init__(self, env, skip=4):
            super().__init__(env)
            self.skip = skip

        def step(self, action):
            frames, total = [], 0.0
            for _ in range(self.skip):
                obs, reward, term, trunc, info = self.env.step(action)
                frames, total = (frames + [obs])[-2:], total + float(reward)
                if term or trunc:
                    break
            return np.max(np.stack(frames), axis=0), total, term, trunc, info

    class EpisodicLife(gym.Wrapper):
        def __init__(self, env):
            super().__init__(env)
            self.lives, self.game_over = 0, True

        def step(self, action):
            obs, reward, term, trunc, info = self.env.step(action)
            self.game_over = term or trunc
            lives = self.env.unwrapped.ale.lives()
            term = term or 0 < lives < self.lives  # subtle: a lost life ends only the episode
            self.lives = lives                     # the learner sees; the game goes on
            return obs, reward, term, trunc, info

        def reset(self, **kwargs):
            if self.game_over:
                obs, info = self.env.reset(**kwargs)
            else:
                obs, _, _, _, info = self.env.step(0)
            self.lives = self.env.unwrapped.ale.lives()
            return obs, info

    class FireReset(gym.Wrapper):
        def reset(self, **kwargs):
            obs, info = self.env.reset(**kwargs)
            obs, _, term, trunc, info = self.env.step(1)
            if term or trunc:
                obs, info = self.env.reset(**kwargs)
            return obs, info

    class WarpFrame(gym.ObservationWrapper):
        def __init__(self, env, size=84):
            super().__init__(env)
            self.size = size
            self.observation_space = gym.spaces.Box(0, 255, (size, size), np.uint8)

        def observation(self, obs):
            return warp_frame(obs, self.size)

    return NoopReset, MaxAndSkip, EpisodicLife, FireReset, WarpFrame


def warp_frame(rgb: np.ndarray, size: int = 84) -> np.ndarray:
    """(210, 160, 3) uint8 RGB -> (size, size) uint8 luminance, area-averaged."""
    gray = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)  # (210, 160)
    small = F.interpolate(torch.from_numpy(gray)[None, None], size=(size, size), mode="area")
    return small[0, 0].round().clamp(0, 255).to(torch.uint8).numpy()


def make_atari_env(env_id: str = "ALE/Pong-v5", frames: int = 4, episodic_life: bool = True):
    """One Atari env with the standard DQN wrappers; observations (frames, 84, 84) uint8."""
    import ale_py
    import gymnasium as gym

    gym.register_envs(ale_py)
    NoopReset, MaxAndSkip, EpisodicLife, FireReset, WarpFrame = _wrappers()
    env = gym.make(env_id, frameskip=1)  # MaxAndSkip does the skipping
    env = MaxAndSkip(NoopReset(env))
    if episodic_life:
        env = EpisodicLife(env)
    if "FIRE" in env.unwrapped.get_action_meanings():
        env = FireReset(env)
    env = gym.wrappers.TransformReward(WarpFrame(env), lambda r: float(np.sign(r)))
    return gym.wrappers.FrameStackObservation(env, frames)


def train_atari(cfg: DQNConfig | None = None, progress: runlog.Progress | None = None
                ) -> TrainResult:
    """DQN on an Atari game (cfg.env_id) with uint8 frames in the C++ replay buffer."""
    cfg = cfg or atari_config()
    return train(cfg, make_env=lambda: make_atari_env(cfg.env_id),
                 make_q=lambda space, n: NatureCNN(n, space.shape[0]), progress=progress)


def main(argv: list[str] | None = None) -> None:
    """Train DQN on an Atari game; write the Q-network and the log, with progress and ETA."""
    p = runlog.parser("python -m hubkit.rl.atari", __doc__, "atari-dqn")
    p.add_argument("--env", default="ALE/Pong-v5", help="an ALE id (default: %(default)s)")
    p.add_argument("--steps", type=int, default=2_000_000,
                   help="env steps (default: %(default)s; hours on a CPU)")
    p.add_argument("--seed", type=int, default=DQNConfig.seed)
    args = p.parse_args(argv)
    cfg = atari_config(env_id=args.env, total_steps=args.steps, seed=args.seed)
    outputs = runlog.Outputs(args.out, args._run_name)
    with runlog.quiet_third_party(), runlog.tracker(args, outputs) as track:
        track.config(asdict(cfg))
        with runlog.Progress(cfg.total_steps, "step", enabled=not args.quiet, tracker=track,
                             track_every=1000) as bar:
            result = train_atari(cfg, progress=bar)
    torch.save(result.q.state_dict(), outputs.path("q_network.pt"))
    with outputs.path("log.jsonl").open("w") as f:
        f.writelines(json.dumps(row) + "\n" for row in result.log)
    score = (f"mean greedy return {result.mean_return:.1f}" if np.isfinite(result.mean_return)
             else "not evaluated yet (too few steps)")
    print(f"trained {result.steps} steps in {result.seconds:.0f} s; {score}")
    outputs.report()


if __name__ == "__main__":
    runlog.run_main(main)
