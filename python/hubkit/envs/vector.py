"""The C++ thread-pool vector env (hubkit._mujoco) as Gymnasium envs.

`MujocoVectorEnv` is a `gymnasium.vector.VectorEnv`: one call to `step` hands
all N actions to C++, which releases the GIL and lets a thread pool run frame
skip, observation, reward, termination and NEXT_STEP autoreset for every env.
Results land in buffers the C++ object owns; `copy=False` returns NumPy views
of them (valid until the next step; `torch.from_numpy` shares them too).
`MujocoEnv` is the single-env `gymnasium.Env` on the same core.

The rules are those of `hubkit.envs.reference` (Gymnasium's v5 tasks); the
tests check the two agree to 1e-10 in float64. `info` holds Gymnasium v5's
keys (positions, velocities, reward terms), at reset too; the vector env
returns them in Gymnasium's vector format: infos[key] (N,) with the mask
infos["_key"] (N,) bool.

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

from hubkit import DISTRIBUTION
from hubkit.envs.reference import (
    INFO_COLUMNS,
    RESET_INFO_KEYS,
    STEP_INFO_KEYS,
    TASK_IDS,
    TaskSpec,
    load_model,
    model_source,
    task_spec,
)
from hubkit.envs.render import DEFAULT_CAMERA_CONFIG, DEFAULT_SIZE, FrameRenderer


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
            "install mujoco, then reinstall hubkit: pip install --force-reinstall --no-deps "
            f"--no-build-isolation {DISTRIBUTION} (from a checkout: `.` instead of the name)."
        ) from err
    installed, linked = mujoco.mj_version(), _mujoco.library_version()
    built, built_with = _mujoco.header_version, _mujoco.built_with_mujoco
    if not (installed == linked == built and mujoco.__version__ == built_with):
        raise ImportError(
            f"hubkit._mujoco was built against mujoco {built_with} (header {built}) but "
            f"mujoco {mujoco.__version__} ({installed}) is installed and libmujoco {linked} "
            f"loaded. Install the one it was built with: pip install mujoco=={built_with}; "
            "or reinstall hubkit to rebuild it against this one: "
            f"pip install --force-reinstall --no-deps --no-build-isolation {DISTRIBUTION}")
    return _mujoco


def cpp_params(spec: TaskSpec, autoreset: bool = True) -> dict:
    """The TaskSpec as the flat dict the C++ VecEnv reads.

    `autoreset=False` lets an ended episode go on until `reset_all` (the single env).
    """
    p = dataclasses.asdict(spec)
    for key, (lo, hi) in [("z", spec.healthy_z_range), ("angle", spec.healthy_angle_range),
                          ("state", spec.healthy_state_range), ("force", spec.contact_force_range)]:
        p[f"{key}_lo"], p[f"{key}_hi"] = float(lo), float(hi)
    p["task"] = TASK_IDS.index(spec.name)
    p["total_mass"] = model_source(spec)[1]
    p["autoreset"] = autoreset
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


def make_core(spec: TaskSpec, num_envs: int, num_threads: int, seed: int | None,
              autoreset: bool = True):
    """Build the C++ VecEnv for a task (checks arguments first)."""
    ext = load_extension()
    n = _check_count(num_envs, "num_envs")
    if n > 1_000_000:
        raise ValueError(f"num_envs must be <= 1000000, got {n}")
    t = _check_count(num_threads, "num_threads")
    xml = model_source(spec)[0]
    return ext.VecEnv(xml, cpp_params(spec, autoreset), n, t, _seed_value(seed))


def check_actions(actions, shape: tuple[int, ...]) -> np.ndarray:
    """Actions as a C-contiguous float64 array of `shape`; ValueError if wrong or not finite."""
    return check_vector(actions, shape, "actions")


def check_vector(values, shape: tuple[int, ...], name: str) -> np.ndarray:
    """`values` as a C-contiguous finite float64 array of `shape`; ValueError naming `name`."""
    a = np.ascontiguousarray(values, dtype=np.float64)
    if a.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} must be finite (got NaN or inf)")
    return a


_COLUMN = {key: j for j, key in enumerate(INFO_COLUMNS)}


def info_dict(row: np.ndarray, keys: tuple[str, ...]) -> dict[str, np.float64]:
    """One env's info from its row of the C++ info buffer (len(INFO_COLUMNS),)."""
    return {key: row[_COLUMN[key]] for key in keys}


def vector_infos(info: np.ndarray, keys: tuple[str, ...], has: np.ndarray, infos=None) -> dict:
    """Add `keys` of the envs where `has` (N,) to Gymnasium-format vector infos.

    Each key gets values (N,) float64 (0 where absent) and a mask "_key" (N,) bool,
    as gymnasium.vector.VectorEnv._add_info builds them; keys no env has are left out.
    """
    infos = {} if infos is None else infos
    if not has.any():
        return infos
    for key in keys:
        mask = infos.get(f"_{key}", np.zeros(len(has), dtype=bool)) | has
        values = np.where(mask, info[:, _COLUMN[key]], 0.0)
        infos[key], infos[f"_{key}"] = values, mask
    return infos


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
        model = load_model(self.task_spec)
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
        everyone = np.ones(self.num_envs, dtype=bool)
        infos = vector_infos(self.core.info, RESET_INFO_KEYS[self.task_spec.name], everyone)
        return self._out(self.core.obs), infos

    def step(self, actions):
        """Step every env. Returns obs, rewards, terminated, truncated, infos.

        infos holds Gymnasium's step keys for the envs that stepped and its
        reset keys for the envs that were reset (NEXT_STEP), each with its mask.
        infos["unstable"] (with the mask "_unstable") marks envs whose
        simulation diverged; they were truncated and reset on their next step.
        """
        a = check_actions(actions, (self.num_envs, self.core.nu))
        core, name = self.core, self.task_spec.name
        core.step(a)
        was_reset = core.episode_steps == 0  # a NEXT_STEP reset, not a step
        infos = vector_infos(core.info, STEP_INFO_KEYS[name], ~was_reset)
        infos = vector_infos(core.info, RESET_INFO_KEYS[name], was_reset, infos)
        unstable = core.unstable.astype(bool)
        if unstable.any():
            infos["unstable"], infos["_unstable"] = unstable, unstable.copy()
        return (self._out(core.obs), self._out(core.rewards),
                core.terminated.astype(bool), core.truncated.astype(bool), infos)

    def queue_reset_state(self, index: int, qpos: np.ndarray, qvel: np.ndarray) -> None:
        """Use this (qpos, qvel) instead of random noise at env `index`'s next reset."""
        if not 0 <= index < self.num_envs:
            raise ValueError(f"index must be in [0, {self.num_envs}), got {index}")
        self.core.queue_reset_state(int(index), qpos, qvel)


class MujocoEnv(gym.Env):
    """One env of a task on the C++ core (what `gym.make("hubkit/<Task>-v5")` returns).

    As Gymnasium's v5 envs: the time limit comes from the TimeLimit wrapper that
    `gym.make` adds, an ended episode goes on until `reset`, `info` holds the
    same keys, `set_state(qpos, qvel)` moves the robot, and
    `render_mode="rgb_array"` draws frames (`hubkit.envs.render`).

    Args:
        task: task id or TaskSpec.
        render_mode: None or "rgb_array".
        width, height: frame size (default 480 x 480).
        camera_id, camera_name: a model camera; default: Gymnasium's free camera.
        default_camera_config: free-camera settings (default: the task's, as Gymnasium's).
        **overrides: TaskSpec fields.

    Example:
        >>> import gymnasium as gym, hubkit.envs
        >>> env = gym.make("hubkit/Hopper-v5")
        >>> obs, info = env.reset(seed=0)
        >>> sorted(info)
        ['x_position', 'z_distance_from_origin']
    """

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(self, task: str | TaskSpec = "HalfCheetah", render_mode: str | None = None,
                 width: int = DEFAULT_SIZE, height: int = DEFAULT_SIZE,
                 camera_id: int | None = None, camera_name: str | None = None,
                 default_camera_config: dict | None = None, **overrides):
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        spec = _spec_from(task, 0, overrides)
        self.core = make_core(spec, 1, 1, seed=0, autoreset=False)
        self.task_spec, self.model = spec, load_model(spec)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (self.core.obs_dim,), np.float64)
        low, high = self.model.actuator_ctrlrange.astype(np.float32).T
        self.action_space = gym.spaces.Box(low=low, high=high, dtype=np.float32)
        self.metadata = {**self.metadata, "render_fps": int(np.round(1.0 / self.dt))}
        self.render_mode = render_mode
        config = DEFAULT_CAMERA_CONFIG[spec.name] if default_camera_config is None else \
            default_camera_config
        self._frames = FrameRenderer(self.model, width, height, camera_id, camera_name, config)
        self._seeded = False

    @property
    def dt(self) -> float:
        """Seconds of simulated time per step (timestep * frame_skip)."""
        return self.model.opt.timestep * self.task_spec.frame_skip

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Reset; returns (obs (obs_dim,), info) with Gymnasium's reset info keys."""
        super().reset(seed=seed)
        if seed is not None or not self._seeded:
            # Without a seed the first reset draws one from np_random, as Gymnasium does.
            self.core.seed(int(self.np_random.integers(2**63)) if seed is None else seed)
            self._seeded = True
        self.core.reset_all()
        return self.core.obs[0].copy(), info_dict(self.core.info[0],
                                                  RESET_INFO_KEYS[self.task_spec.name])

    def step(self, action):
        """Step; returns obs, reward, terminated, truncated, info (Gymnasium's step keys)."""
        a = check_actions(action, self.action_space.shape)
        core = self.core
        core.step(a[None])
        info = info_dict(core.info[0], STEP_INFO_KEYS[self.task_spec.name])
        if core.unstable[0]:
            info["unstable"] = True
        return (core.obs[0].copy(), float(core.rewards[0]), bool(core.terminated[0]),
                bool(core.truncated[0]), info)

    def set_state(self, qpos, qvel) -> None:
        """Set joint positions (nq,) and velocities (nv,), as Gymnasium's MujocoEnv.set_state.

        Nothing else changes (time, controls); the next `step` starts from this state.
        """
        qpos = check_vector(qpos, (self.core.nq,), "qpos")
        qvel = check_vector(qvel, (self.core.nv,), "qvel")
        self.core.set_state(0, qpos, qvel)

    def get_state(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies of (qpos (nq,), qvel (nv,))."""
        return self.core.get_state(0)

    def render(self):
        """The current frame (H, W, 3) uint8 when render_mode="rgb_array", else None."""
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; "
                            "make the env with render_mode='rgb_array'")
            return None
        return self._frames.render(*self.get_state())

    def close(self) -> None:
        """Free the rendering context."""
        self._frames.close()
