"""MuJoCo locomotion and reaching tasks, stepped one env after another: the spec.

This is the readable version of Gymnasium's v5 MuJoCo tasks HalfCheetah,
Hopper, Walker2d, Ant and Reacher (https://gymnasium.farama.org/environments/mujoco/):
the same XML models, frame skips, observations, rewards, termination and
time limits, written as plain functions over one `mujoco.MjData` per env.
`ReferenceVectorEnv` steps N of them in a Python loop with Gymnasium's
NEXT_STEP autoreset; hubkit's C++ vector env (`hubkit.envs.vector`) must match
it to 1e-10 in float64.

One env step, for every task:
    before = position of the tracked body         (qpos[0] or a body's xpos)
    data.ctrl = action; mj_step x frame_skip; mj_rnePostConstraint
    obs = observe(data); reward = forward speed + healthy bonus - costs
    terminated = not healthy; truncated = steps >= max_episode_steps

Shapes: N envs, obs (N, obs_dim), actions (N, nu) float64.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

TASK_IDS = ("HalfCheetah", "Hopper", "Walker2d", "Ant", "Reacher")
INF = float("inf")


@dataclass(frozen=True)
class TaskSpec:
    """One task's rules and parameters (defaults are Gymnasium v5's)."""

    name: str
    """Task id without the version, e.g. "HalfCheetah"."""
    xml_file: str
    """Model file name inside gymnasium/envs/mujoco/assets."""
    frame_skip: int
    """Physics steps per env step; dt = timestep * frame_skip."""
    max_episode_steps: int
    """Time limit; 0 means none."""
    forward_reward_weight: float = 1.0
    ctrl_cost_weight: float = 0.1
    contact_cost_weight: float = 0.0
    healthy_reward: float = 0.0
    terminate_when_unhealthy: bool = False
    healthy_z_range: tuple[float, float] = (-INF, INF)
    healthy_angle_range: tuple[float, float] = (-INF, INF)
    healthy_state_range: tuple[float, float] = (-INF, INF)
    contact_force_range: tuple[float, float] = (-1.0, 1.0)
    reset_noise_scale: float = 0.1
    skipped_qpos: int = 1
    """Leading qpos entries left out of the observation (x, or x and y)."""
    qvel_clip: float = INF
    """Observation clips qvel to [-qvel_clip, qvel_clip] (Hopper, Walker2d)."""

    def replace(self, **changes) -> TaskSpec:
        """A copy with some fields changed (e.g. max_episode_steps)."""
        return dataclasses.replace(self, **changes)


TASKS = {
    "HalfCheetah": TaskSpec("HalfCheetah", "half_cheetah.xml", 5, 1000),
    "Hopper": TaskSpec(
        "Hopper", "hopper.xml", 4, 1000, ctrl_cost_weight=1e-3, healthy_reward=1.0,
        terminate_when_unhealthy=True, healthy_z_range=(0.7, INF),
        healthy_angle_range=(-0.2, 0.2), healthy_state_range=(-100.0, 100.0),
        reset_noise_scale=5e-3, qvel_clip=10.0),
    "Walker2d": TaskSpec(
        "Walker2d", "walker2d_v5.xml", 4, 1000, ctrl_cost_weight=1e-3, healthy_reward=1.0,
        terminate_when_unhealthy=True, healthy_z_range=(0.8, 2.0),
        healthy_angle_range=(-1.0, 1.0), reset_noise_scale=5e-3, qvel_clip=10.0),
    "Ant": TaskSpec(
        "Ant", "ant.xml", 5, 1000, ctrl_cost_weight=0.5, contact_cost_weight=5e-4,
        healthy_reward=1.0, terminate_when_unhealthy=True, healthy_z_range=(0.2, 1.0),
        skipped_qpos=2),
    "Reacher": TaskSpec("Reacher", "reacher.xml", 2, 50, ctrl_cost_weight=1.0, skipped_qpos=0),
}


def task_spec(task: str) -> TaskSpec:
    """The TaskSpec for "HalfCheetah", "HalfCheetah-v5" or "hubkit/HalfCheetah-v5"."""
    name = task.split("/")[-1].removesuffix("-v5")
    if name not in TASKS:
        raise ValueError(f"task must be one of {TASK_IDS} (optionally '-v5'), got {task!r}")
    return TASKS[name]


def xml_path(spec: TaskSpec) -> str:
    """Absolute path of the task's model file, as shipped with gymnasium."""
    from importlib import resources

    # Located without importing gymnasium.envs.mujoco, which pulls in its renderer.
    return str(resources.files("gymnasium") / "envs" / "mujoco" / "assets" / spec.xml_file)


def load_model(spec: TaskSpec):
    """Compile the task's `mujoco.MjModel`."""
    import mujoco

    return mujoco.MjModel.from_xml_path(xml_path(spec))


def obs_dim(spec: TaskSpec, model) -> int:
    """Length of one observation."""
    if spec.name == "Reacher":
        return 10
    n = model.nq + model.nv - spec.skipped_qpos
    if spec.name == "Ant":
        n += 6 * (model.nbody - 1)  # cfrc_ext of every body but the world
    return n


def body_id(model, name: str) -> int:
    """Index of a named body."""
    import mujoco

    return mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, name)


def tracked_position(spec: TaskSpec, data) -> np.ndarray:
    """What forward speed is measured on: qpos[0] (planar) or the torso's xy (Ant)."""
    if spec.name == "Ant":
        return data.xpos[1, :2].copy()  # body 1 is the torso ("main_body")
    return data.qpos[:1].copy()


def observe(spec: TaskSpec, model, data) -> np.ndarray:
    """The observation after a step or a reset, float64 (obs_dim,)."""
    if spec.name == "Reacher":
        theta = data.qpos[:2]
        tip = data.xpos[body_id(model, "fingertip")] - data.xpos[body_id(model, "target")]
        return np.concatenate([np.cos(theta), np.sin(theta), data.qpos[2:], data.qvel[:2], tip[:2]])
    qpos = data.qpos[spec.skipped_qpos:]
    qvel = np.clip(data.qvel, -spec.qvel_clip, spec.qvel_clip)
    parts = [qpos, qvel]
    if spec.name == "Ant":
        parts.append(contact_forces(spec, data)[1:].ravel())
    return np.concatenate(parts)


def contact_forces(spec: TaskSpec, data) -> np.ndarray:
    """External contact wrenches per body, clipped to contact_force_range (nbody, 6)."""
    lo, hi = spec.contact_force_range
    return np.clip(data.cfrc_ext, lo, hi)


def is_healthy(spec: TaskSpec, data) -> bool:
    """Whether the robot is still up (always True for tasks that never terminate)."""
    if spec.name == "Ant":
        state = np.concatenate([data.qpos, data.qvel])
        lo, hi = spec.healthy_z_range
        return bool(np.isfinite(state).all() and lo <= state[2] <= hi)  # closed interval
    if spec.name not in ("Hopper", "Walker2d"):
        return True
    z, angle = data.qpos[1], data.qpos[2]
    # subtle: Hopper and Walker2d use open intervals; Ant uses a closed one.
    ok = spec.healthy_z_range[0] < z < spec.healthy_z_range[1]
    ok = ok and spec.healthy_angle_range[0] < angle < spec.healthy_angle_range[1]
    if spec.name == "Hopper":
        state = np.concatenate([data.qpos[2:], data.qvel])
        lo, hi = spec.healthy_state_range
        ok = ok and bool(np.all((lo < state) & (state < hi)))
    return bool(ok)


def reward(spec: TaskSpec, model, data, before: np.ndarray, action: np.ndarray) -> float:
    """Reward for the step that moved the tracked position from `before` to now."""
    ctrl_cost = spec.ctrl_cost_weight * float(np.sum(np.square(action)))
    if spec.name == "Reacher":
        tip = data.xpos[body_id(model, "fingertip")] - data.xpos[body_id(model, "target")]
        return -float(np.linalg.norm(tip)) - ctrl_cost
    dt = model.opt.timestep * spec.frame_skip
    speed = (tracked_position(spec, data)[0] - before[0]) / dt
    gains = spec.forward_reward_weight * speed
    if spec.healthy_reward:
        gains += spec.healthy_reward * is_healthy(spec, data)
    costs = ctrl_cost
    if spec.contact_cost_weight:
        costs += spec.contact_cost_weight * float(np.sum(np.square(contact_forces(spec, data))))
    r = gains - costs
    return float(r)


def physics_step(spec: TaskSpec, model, data, action: np.ndarray) -> None:
    """Apply the action for frame_skip physics steps, then fill cfrc_ext."""
    import mujoco

    data.ctrl[:] = action
    mujoco.mj_step(model, data, nstep=spec.frame_skip)
    # subtle: cfrc_ext (Ant's contact forces) is only computed by this call.
    mujoco.mj_rnePostConstraint(model, data)


def sample_reset_state(spec: TaskSpec, model, rng: np.random.Generator):
    """Draw (qpos, qvel) around the model's initial state, Gymnasium's noise rules."""
    s = spec.reset_noise_scale
    qpos0, qvel0 = model.qpos0.copy(), np.zeros(model.nv)
    if spec.name == "Reacher":
        qpos = qpos0 + rng.uniform(-0.1, 0.1, model.nq)
        goal = rng.uniform(-0.2, 0.2, 2)
        while np.linalg.norm(goal) >= 0.2:  # rejection-sample a goal in the disc
            goal = rng.uniform(-0.2, 0.2, 2)
        qpos[-2:] = goal
        qvel = qvel0 + rng.uniform(-0.005, 0.005, model.nv)
        qvel[-2:] = 0.0
        return qpos, qvel
    qpos = qpos0 + rng.uniform(-s, s, model.nq)
    if spec.name in ("HalfCheetah", "Ant"):  # Gaussian velocity noise
        return qpos, qvel0 + s * rng.standard_normal(model.nv)
    return qpos, qvel0 + rng.uniform(-s, s, model.nv)


def reset_to(model, data, qpos: np.ndarray, qvel: np.ndarray) -> None:
    """Reset all of `data` (warm starts, time, ctrl) and set the given state."""
    import mujoco

    # subtle: mj_resetData also clears qacc_warmstart; skipping it changes the
    # constraint solver's starting point and so the trajectory, in the last bits.
    mujoco.mj_resetData(model, data)
    data.qpos[:] = qpos
    data.qvel[:] = qvel
    mujoco.mj_forward(model, data)


class ReferenceVectorEnv:
    """N copies of one task, stepped in a Python loop, NEXT_STEP autoreset.

    After an env's episode ends (terminated or truncated), its next `step`
    ignores the action, resets it and returns the reset observation with
    reward 0 and both flags False, as Gymnasium's AutoresetMode.NEXT_STEP does.

    Args:
        task: "HalfCheetah", "Hopper", "Walker2d", "Ant" or "Reacher" (or a TaskSpec).
        num_envs: N.
        seed: seeds the per-env reset-noise generators.

    Example:
        >>> env = ReferenceVectorEnv("HalfCheetah", num_envs=2, seed=0)
        >>> obs = env.reset()
        >>> obs.shape
        (2, 17)
    """

    def __init__(self, task: str | TaskSpec, num_envs: int = 1, seed: int | None = None):
        import mujoco

        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        self.spec = task if isinstance(task, TaskSpec) else task_spec(task)
        self.model = load_model(self.spec)
        self.datas = [mujoco.MjData(self.model) for _ in range(num_envs)]
        self.num_envs = num_envs
        self.obs_dim = obs_dim(self.spec, self.model)
        self.action_dim = self.model.nu
        self._seed(seed)
        self._pending: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def _seed(self, seed: int | None) -> None:
        kids = np.random.SeedSequence(seed).spawn(self.num_envs)
        self.rngs = [np.random.default_rng(k) for k in kids]
        self.steps = np.zeros(self.num_envs, dtype=np.int64)
        self.needs_reset = np.zeros(self.num_envs, dtype=bool)

    def queue_reset_state(self, i: int, qpos: np.ndarray, qvel: np.ndarray) -> None:
        """Use this (qpos, qvel) instead of random noise at env i's next reset."""
        self._pending[i] = (np.array(qpos, np.float64), np.array(qvel, np.float64))

    def _reset_one(self, i: int) -> np.ndarray:
        state = self._pending.pop(i, None)
        if state is None:
            state = sample_reset_state(self.spec, self.model, self.rngs[i])
        reset_to(self.model, self.datas[i], *state)
        self.steps[i] = 0
        self.needs_reset[i] = False
        return observe(self.spec, self.model, self.datas[i])

    def reset(self, seed: int | None = None) -> np.ndarray:
        """Reset every env; returns obs (N, obs_dim)."""
        if seed is not None:
            self._seed(seed)
        return np.stack([self._reset_one(i) for i in range(self.num_envs)])

    def _step_one(self, i: int, action: np.ndarray):
        if self.needs_reset[i]:
            return self._reset_one(i), 0.0, False, False
        data = self.datas[i]
        before = tracked_position(self.spec, data)
        physics_step(self.spec, self.model, data, action)
        r = reward(self.spec, self.model, data, before, action)
        term = self.spec.terminate_when_unhealthy and not is_healthy(self.spec, data)
        self.steps[i] += 1
        limit = self.spec.max_episode_steps
        trunc = bool(limit and self.steps[i] >= limit)
        self.needs_reset[i] = term or trunc
        return observe(self.spec, self.model, data), r, term, trunc

    def step(self, actions: np.ndarray):
        """Step every env; returns obs (N, obs_dim), rewards, terminated, truncated (N,)."""
        actions = np.asarray(actions, dtype=np.float64)
        if actions.shape != (self.num_envs, self.action_dim):
            raise ValueError(
                f"actions must have shape {(self.num_envs, self.action_dim)}, got {actions.shape}")
        out = [self._step_one(i, actions[i]) for i in range(self.num_envs)]
        obs, rew, term, trunc = zip(*out, strict=True)
        return (np.stack(obs), np.array(rew), np.array(term), np.array(trunc))
