"""The C++ thread-pool vector env (hubkit._mujoco) as Gymnasium envs.

`MujocoVectorEnv` is a `gymnasium.vector.VectorEnv`: one call to `step` hands
all N actions to C++, which releases the GIL and lets a thread pool run frame
skip, observation, reward, termination and NEXT_STEP autoreset for every env.
Results land in buffers the C++ object owns; `copy=False` returns NumPy views
of them (valid until the next step; `torch.from_numpy` shares them too).
`MujocoEnv` is the single-env `gymnasium.Env` on the same core.

The rules are those of `hubkit.envs.reference` (Gymnasium's v5 tasks); the
tests check the two agree to 1e-10 in float64.

Shapes: N envs, obs (N, obs_dim) float64, actions (N, nu).

Example:
    >>> import gymnasium as gym, hubkit.envs
    >>> envs = gym.make_vec("hubkit/Hopper-v5", num_envs=4,
    ...                     vectorization_mode="vector_entry_point", num_threads=2)
    >>> obs, infos = envs.reset(seed=0)
    >>> obs.shape
    (4, 11)
"""

from __future__ import annotations

import dataclasses
from types import ModuleType

import gymnasium as gym
import numpy as np

from hubkit.envs.reference import TASK_IDS, TaskSpec, task_spec, xml_path


def load_extension() -> ModuleType:
    """Import hubkit._mujoco, checking it matches the installed mujoco.

    Raises:
        ImportError: the extension was not built, cannot find libmujoco, or was
            built against a different mujoco than the one installed now.
    """
    import mujoco

    try:
        from hubkit import _mujoco
    except ImportError as err:
        raise ImportError(
            "hubkit._mujoco (the C++ MuJoCo vector env) is not available: "
            f"{err}. It is built only when `mujoco` is installed at build time; "
            "install mujoco, then reinstall hubkit (pip install --no-build-isolation hubkit)."
        ) from err
    installed, linked = mujoco.mj_version(), _mujoco.library_version()
    built = _mujoco.header_version
    if not installed == linked == built:
        raise ImportError(
            f"hubkit._mujoco was built against mujoco {_mujoco.built_with_mujoco} "
            f"(header {built}) but loaded libmujoco {linked} and mujoco {mujoco.__version__} "
            f"({installed}) is installed; reinstall hubkit to rebuild it.")
    return _mujoco


def cpp_params(spec: TaskSpec) -> dict:
    """The TaskSpec as the flat dict the C++ VecEnv reads."""
    p = dataclasses.asdict(spec)
    for key, (lo, hi) in [("z", spec.healthy_z_range), ("angle", spec.healthy_angle_range),
                          ("state", spec.healthy_state_range), ("force", spec.contact_force_range)]:
        p[f"{key}_lo"], p[f"{key}_hi"] = float(lo), float(hi)
    p["task"] = TASK_IDS.index(spec.name)
    return p


def _check_count(value: int, name: str) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def _seed_value(seed) -> int:
    if seed is None:
        return int(np.random.SeedSequence().entropy % 2**63)
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    return int(seed)


def make_core(spec: TaskSpec, num_envs: int, num_threads: int, seed: int | None):
    """Build the C++ VecEnv for a task (checks arguments first)."""
    ext = load_extension()
    n = _check_count(num_envs, "num_envs")
    if n > 1_000_000:
        raise ValueError(f"num_envs must be <= 1000000, got {n}")
    t = _check_count(num_threads, "num_threads")
    return ext.VecEnv(xml_path(spec), cpp_params(spec), n, t, _seed_value(seed))


def check_actions(actions, shape: tuple[int, ...]) -> np.ndarray:
    """Actions as a C-contiguous float64 array of `shape`; ValueError if wrong or not finite."""
    a = np.ascontiguousarray(actions, dtype=np.float64)
    if a.shape != shape:
        raise ValueError(f"actions must have shape {shape}, got {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError("actions must be finite (got NaN or inf)")
    return a


def _spec_from(task: str | TaskSpec, max_episode_steps: int | None, overrides: dict) -> TaskSpec:
    spec = task if isinstance(task, TaskSpec) else task_spec(task)
    if max_episode_steps is not None:
        overrides = {**overrides, "max_episode_steps": int(max_episode_steps)}
    return spec.replace(**overrides) if overrides else spec


class MujocoVectorEnv(gym.vector.VectorEnv):
    """N envs of one task stepped by the C++ thread pool; autoreset mode NEXT_STEP.

    Args:
        task: "HalfCheetah", "Hopper", "Walker2d", "Ant", "Reacher" (or a TaskSpec).
        num_envs: N >= 1.
        num_threads: threads in the pool (>= 1); results do not depend on it.
        seed: seeds the reset noise; `reset(seed=...)` reseeds.
        max_episode_steps: time limit (default: the task's; 0 for none).
        copy: return copies (default) or views of the C++ buffers.
        **overrides: TaskSpec fields, e.g. ctrl_cost_weight=0.2.
    """

    def __init__(self, task: str | TaskSpec = "HalfCheetah", num_envs: int = 1,
                 num_threads: int = 1, seed: int | None = None,
                 max_episode_steps: int | None = None, copy: bool = True, **overrides):
        from gymnasium.vector.utils import batch_space

        self.task_spec = _spec_from(task, max_episode_steps, overrides)
        self.core = make_core(self.task_spec, num_envs, num_threads, seed)
        self.num_envs = self.core.num_envs
        self.copy = copy
        self.model, self.single_observation_space, self.single_action_space = self._make_spaces()
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.metadata = {"autoreset_mode": gym.vector.AutoresetMode.NEXT_STEP, "render_modes": []}
        self.render_mode = None

    def _make_spaces(self):
        import mujoco

        model = mujoco.MjModel.from_xml_path(xml_path(self.task_spec))
        low, high = model.actuator_ctrlrange.astype(np.float32).T
        act = gym.spaces.Box(low=low, high=high, dtype=np.float32)
        obs = gym.spaces.Box(low=-np.inf, high=np.inf, shape=(self.core.obs_dim,), dtype=np.float64)
        return model, obs, act

    def _out(self, a: np.ndarray) -> np.ndarray:
        return a.copy() if self.copy else a

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Reset every env. Returns (obs (N, obs_dim), infos)."""
        if seed is not None:
            self.core.seed(_seed_value(seed))
        self.core.reset_all()
        return self._out(self.core.obs), {}

    def step(self, actions):
        """Step every env. Returns obs, rewards, terminated, truncated, infos.

        infos["unstable"] (with the mask "_unstable") marks envs whose
        simulation diverged; they were truncated and reset on their next step.
        """
        a = check_actions(actions, (self.num_envs, self.core.nu))
        self.core.step(a)
        unstable = self.core.unstable.astype(bool)
        infos = {"unstable": unstable, "_unstable": unstable.copy()} if unstable.any() else {}
        return (self._out(self.core.obs), self._out(self.core.rewards),
                self.core.terminated.astype(bool), self.core.truncated.astype(bool), infos)

    def queue_reset_state(self, index: int, qpos: np.ndarray, qvel: np.ndarray) -> None:
        """Use this (qpos, qvel) instead of random noise at env `index`'s next reset."""
        if not 0 <= index < self.num_envs:
            raise ValueError(f"index must be in [0, {self.num_envs}), got {index}")
        self.core.queue_reset_state(int(index), qpos, qvel)


class MujocoEnv(gym.Env):
    """One env of a task on the C++ core (what `gym.make("hubkit/<Task>-v5")` returns).

    The time limit comes from the TimeLimit wrapper that `gym.make` adds, as in
    Gymnasium's own v5 envs.

    Args:
        task: task id or TaskSpec.
        **overrides: TaskSpec fields.
    """

    metadata = {"render_modes": []}

    def __init__(self, task: str | TaskSpec = "HalfCheetah", **overrides):
        self._vec = MujocoVectorEnv(task, num_envs=1, num_threads=1, seed=0,
                                    max_episode_steps=0, **overrides)
        self.observation_space = self._vec.single_observation_space
        self.action_space = self._vec.single_action_space
        self.render_mode = None
        self._seeded = False

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Reset; returns (obs (obs_dim,), info)."""
        super().reset(seed=seed)
        if seed is not None or not self._seeded:
            # Without a seed the first reset draws one from np_random, as Gymnasium does.
            self._vec.core.seed(int(self.np_random.integers(2**63)) if seed is None else seed)
            self._seeded = True
        self._vec.core.reset_all()
        return self._vec.core.obs[0].copy(), {}

    def step(self, action):
        """Step; returns obs, reward, terminated, truncated, info."""
        a = check_actions(action, self.action_space.shape)
        core = self._vec.core
        core.step(a[None])
        info = {"unstable": True} if core.unstable[0] else {}
        return (core.obs[0].copy(), float(core.rewards[0]), bool(core.terminated[0]),
                bool(core.truncated[0]), info)
