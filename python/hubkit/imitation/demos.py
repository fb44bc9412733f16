"""Demonstrations: collect them from an expert, store them in Minari's format, prepare them.

An imitation learner never sees a reward, only (observation, action) pairs an
expert produced. This module gathers those pairs on hubkit's vector envs and
keeps them as `Episode`s, one array per field, the shapes Minari uses:
observations (T + 1, O) with the final observation, actions (T, A), rewards,
terminations and truncations (T,).

Storage is Minari's dataset format (https://minari.farama.org), the community
standard for offline RL and imitation data: `save_minari` writes a dataset
through `minari` itself, so `minari.load_dataset` reads it, and
`load_minari_hdf5` reads the same files with h5py alone, to show the layout is
plain HDF5: `<root>/<dataset_id>/data/main_data.hdf5` with one group
`episode_<i>` per episode, holding `observations`, `actions`, `rewards`,
`terminations` and `truncations`.

Preparing data: `Normalizer` holds per-feature mean and std from the
demonstrations (the policy then sees the same scale at test time), and
`stack_frames` turns image observations (T, H, W, C) into stacks of the last k
frames, so a policy can see motion.

Shapes: N envs, T steps, O observation size, A action size.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

Policy = Callable[[np.ndarray], np.ndarray]  # (N, O) -> (N, A)


@dataclass
class Episode:
    """One episode: observations (T + 1, O); actions (T, A); rewards, terminations and
    truncations (T,)."""

    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    terminations: np.ndarray
    truncations: np.ndarray

    def __len__(self) -> int:
        return len(self.actions)

    @property
    def total_reward(self) -> float:
        return float(self.rewards.sum())


class _Recorder:
    """Per-env step lists that become Episodes when the env's episode ends."""

    def __init__(self, first_obs: np.ndarray) -> None:
        self.obs = [[o] for o in first_obs]
        self.act = [[] for _ in first_obs]
        self.rew = [[] for _ in first_obs]
        self.term = [[] for _ in first_obs]

    def record(self, i: int, action, obs, reward, terminated) -> None:
        self.act[i].append(action)
        self.obs[i].append(obs)
        self.rew[i].append(reward)
        self.term[i].append(terminated)

    def close(self, i: int) -> Episode:
        n = len(self.act[i])
        term = np.array(self.term[i], dtype=bool)
        trunc = np.zeros(n, dtype=bool)
        trunc[-1] = not term[-1]
        ep = Episode(np.array(self.obs[i]), np.array(self.act[i]),
                     np.array(self.rew[i], dtype=np.float64), term, trunc)
        self.obs[i], self.act[i], self.rew[i], self.term[i] = [], [], [], []
        return ep


def rollout(env, policy: Policy, episodes: int, seed: int, labeler: Policy | None = None,
            progress=None) -> list[Episode]:
    """Run `policy` in a Gymnasium vector env until `episodes` episodes have ended.

    Args:
        env: a vector env with NEXT_STEP autoreset (hubkit's MujocoVectorEnv).
        policy: chooses the actions that are executed, (N, O) -> (N, A).
        episodes: how many complete episodes to return (the first ones to end).
        seed: reset seed.
        labeler: if given, the stored action is `labeler(obs)` instead of the
            executed one: DAgger's expert labels on the learner's own states.
        progress: optional `hubkit.runlog.Progress`, updated once per finished episode.

    Returns:
        the episodes, in the order they ended.
    """
    obs, _ = env.reset(seed=seed)
    rec = _Recorder(obs)
    resetting = np.zeros(env.num_envs, dtype=bool)
    done: list[Episode] = []
    while len(done) < episodes:
        executed = np.asarray(policy(obs))
        stored = executed if labeler is None else np.asarray(labeler(obs))
        next_obs, reward, terminated, truncated, _ = env.step(executed)
        for i in range(env.num_envs):
            # subtle: NEXT_STEP autoreset: the step after an episode's end only resets the
            # env; its observation is the new episode's first, its action and reward are void.
            if resetting[i]:
                rec.obs[i] = [next_obs[i]]
                continue
            rec.record(i, stored[i], next_obs[i], reward[i], terminated[i])
            if terminated[i] or truncated[i]:
                done.append(rec.close(i))
                if progress is not None:
                    progress.update(episode_return=done[-1].total_reward)
        resetting = terminated | truncated
        obs = next_obs
    return done[:episodes]


def transitions(episodes: list[Episode]) -> tuple[np.ndarray, np.ndarray]:
    """All (observation, action) pairs: obs (M, O) and actions (M, A), M = total steps."""
    obs = np.concatenate([ep.observations[:-1] for ep in episodes])
    return obs, np.concatenate([ep.actions for ep in episodes])


class Normalizer:
    """Per-feature standardization fitted on demonstrations: (x - mean) / std.

    Features that never vary get std 1, so they pass through centred, not blown up.
    """

    def __init__(self, mean: np.ndarray, std: np.ndarray) -> None:
        self.mean, self.std = np.asarray(mean, np.float64), np.asarray(std, np.float64)

    @classmethod
    def fit(cls, x: np.ndarray, eps: float = 1e-8) -> Normalizer:
        std = x.std(axis=0)
        return cls(x.mean(axis=0), np.where(std < eps, 1.0, std))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean) / self.std

    def state_dict(self) -> dict[str, list[float]]:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}


def stack_frames(frames: np.ndarray, k: int) -> np.ndarray:
    """(T, H, W, C) frames -> (T, H, W, C * k): each step sees its last k frames, oldest first.

    The first steps of an episode repeat frame 0 where there is no history yet.
    """
    if k < 1:
        raise ValueError(f"k: must be at least 1, got {k}")
    if frames.ndim != 4:
        raise ValueError(f"frames: expected (T, H, W, C), got shape {frames.shape}")
    index = np.arange(len(frames))[:, None] + np.arange(-k + 1, 1)[None, :]  # (T, k)
    stacked = frames[np.clip(index, 0, None)]  # (T, k, H, W, C)
    return np.concatenate(list(stacked.transpose(1, 0, 2, 3, 4)), axis=-1)


# ------------------------------------------------------------------ Minari format

@contextmanager
def _datasets_root(root: str | os.PathLike):
    """Point minari at `root` for the duration (it reads MINARI_DATASETS_PATH)."""
    old = os.environ.get("MINARI_DATASETS_PATH")
    os.environ["MINARI_DATASETS_PATH"] = str(root)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("MINARI_DATASETS_PATH", None)
        else:
            os.environ["MINARI_DATASETS_PATH"] = old


def save_minari(episodes: list[Episode], dataset_id: str, root: str | os.PathLike,
                env_id: str, algorithm_name: str = "expert", description: str = "") -> Path:
    """Write `episodes` as Minari dataset `dataset_id` under `root`; returns its folder.

    Args:
        dataset_id: Minari's "namespace/name-vN" form, e.g. "hubkit/reacher-expert-v0".
        env_id: the Gymnasium id the data came from (e.g. "hubkit/Reacher-v5"); it
            must be registered (import hubkit.envs) so minari can record its spec.
    """
    import minari
    from minari.data_collector import EpisodeBuffer

    if "/" not in dataset_id or "-v" not in dataset_id:
        raise ValueError(f"dataset_id: expected 'namespace/name-vN', got {dataset_id!r}")
    buffers = [EpisodeBuffer(id=i, observations=ep.observations, actions=ep.actions,
                             rewards=list(ep.rewards), terminations=list(ep.terminations),
                             truncations=list(ep.truncations), infos={})
               for i, ep in enumerate(episodes)]
    Path(root).mkdir(parents=True, exist_ok=True)
    with _datasets_root(root), warnings.catch_warnings():
        # minari asks for a code permalink and a contact address: advice, not errors
        warnings.filterwarnings("ignore", message=".*is set to None", category=UserWarning)
        minari.create_dataset_from_buffers(
            dataset_id, buffers, env=env_id, eval_env=env_id, algorithm_name=algorithm_name,
            author="hubkit", description=description or f"{len(episodes)} episodes of {env_id}",
            data_format="hdf5")
    return Path(root) / dataset_id


def load_minari(dataset_id: str, root: str | os.PathLike) -> list[Episode]:
    """Read a Minari dataset with `minari.load_dataset`."""
    import minari

    with _datasets_root(root):
        dataset = minari.load_dataset(dataset_id)
        return [Episode(np.asarray(e.observations), np.asarray(e.actions),
                        np.asarray(e.rewards, dtype=np.float64), np.asarray(e.terminations),
                        np.asarray(e.truncations)) for e in dataset.iterate_episodes()]


def load_minari_hdf5(dataset_id: str, root: str | os.PathLike) -> list[Episode]:
    """Read the same dataset with h5py only: the layout, not the library."""
    import h5py

    path = Path(root) / dataset_id / "data" / "main_data.hdf5"
    if not path.exists():
        raise FileNotFoundError(f"dataset_id: no Minari HDF5 data at {path}")
    with h5py.File(path, "r") as f:
        names = sorted(f, key=lambda name: int(name.split("_")[-1]))
        return [Episode(*(np.asarray(f[name][key]) for key in
                          ("observations", "actions", "rewards", "terminations", "truncations")))
                for name in names]
