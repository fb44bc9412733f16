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
    obs = observe(data); info = positions, velocities and reward terms
    reward = (forward + healthy bonus) - (control + contact costs)
    terminated = not healthy; truncated = steps >= max_episode_steps

`info` holds the same keys as Gymnasium's v5 envs (`step_info`, `reset_info`).
With `dynamics=DynamicsRanges(...)` every episode runs with freshly drawn
masses, friction and damping (`hubkit.envs.dynamics`).

Shapes: N envs, obs (N, obs_dim), actions (N, nu) float64.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import numpy as np

from hubkit.envs.dynamics import DynamicsRanges, DynamicsSampler

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


_SETTOTALMASS = re.compile(r'\s+settotalmass\s*=\s*"([^"]*)"')


def model_source(spec: TaskSpec) -> tuple[str, float]:
    """The task's model XML without deprecated attributes, and the total mass to set (0: none).

    # subtle: Gymnasium's half_cheetah.xml sets <compiler settotalmass="14">, which
    # MuJoCo deprecates: every compile of it prints a warning and appends it to
    # MUJOCO_LOG.TXT in the current directory. Compiling without the attribute,
    # then mj_setTotalmass + mj_setConst, gives a bit-identical model in silence.
    """
    with open(xml_path(spec), encoding="utf-8") as f:
        text = f.read()
    found = _SETTOTALMASS.search(text)
    if found is None:
        return text, 0.0
    return text[:found.start()] + text[found.end():], float(found.group(1))


def load_model(spec: TaskSpec):
    """Compile the task's `mujoco.MjModel` (Gymnasium's XML, same model, no warnings)."""
    import mujoco

    text, total_mass = model_source(spec)
    model = mujoco.MjModel.from_xml_string(text)
    if total_mass > 0:
        mujoco.mj_setTotalmass(model, total_mass)
        mujoco.mj_setConst(model, mujoco.MjData(model))
    return model


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
    """What forward speed is measured on: qpos[0] (planar, (1,)) or the torso's xy (Ant, (2,))."""
    if spec.name == "Ant":
        return data.xpos[1, :2].copy()  # body 1 is the torso ("main_body")
    return data.qpos[:1].copy()


def observe(spec: TaskSpec, model, data) -> np.ndarray:
    """The observation after a step or a reset, float64 (obs_dim,)."""
    if spec.name == "Reacher":
        theta = data.qpos[:2]
        tip = fingertip_offset(model, data)
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


RESET_INFO_KEYS = {
    "HalfCheetah": ("x_position",),
    "Hopper": ("x_position", "z_distance_from_origin"),
    "Walker2d": ("x_position", "z_distance_from_origin"),
    "Ant": ("x_position", "y_position", "distance_from_origin"),
    "Reacher": (),
}
"""Gymnasium v5's `info` keys at reset, per task, in its order."""

STEP_INFO_KEYS = {
    "HalfCheetah": ("x_position", "x_velocity", "reward_forward", "reward_ctrl"),
    "Hopper": ("x_position", "z_distance_from_origin", "x_velocity", "reward_forward",
               "reward_ctrl", "reward_survive"),
    "Walker2d": ("x_position", "z_distance_from_origin", "x_velocity", "reward_forward",
                 "reward_ctrl", "reward_survive"),
    "Ant": ("x_position", "y_position", "distance_from_origin", "x_velocity", "y_velocity",
            "reward_forward", "reward_ctrl", "reward_contact", "reward_survive"),
    "Reacher": ("reward_dist", "reward_ctrl"),
}
"""Gymnasium v5's `info` keys after a step, per task, in its order."""

INFO_COLUMNS = ("x_position", "y_position", "distance_from_origin", "z_distance_from_origin",
                "x_velocity", "y_velocity", "reward_forward", "reward_ctrl", "reward_contact",
                "reward_survive", "reward_dist")
"""Every task's info keys together: the columns of the C++ env's info buffer (N, 11)."""


def fingertip_offset(model, data) -> np.ndarray:
    """Reacher: fingertip position minus target position (3,)."""
    return data.xpos[body_id(model, "fingertip")] - data.xpos[body_id(model, "target")]


def contact_cost(spec: TaskSpec, data) -> float:
    """Weighted squared clipped contact wrenches (Ant's contact cost; 0 elsewhere)."""
    return spec.contact_cost_weight * float(np.sum(np.square(contact_forces(spec, data))))


def reset_info(spec: TaskSpec, model, data) -> dict[str, float]:
    """Gymnasium v5's `info` after a reset: where the robot is (empty for Reacher)."""
    qpos = data.qpos
    info = {"x_position": float(qpos[0]), "y_position": float(qpos[1]),
            # subtle: Ant reports qpos here but measures its speed on the torso's xpos.
            "distance_from_origin": float(np.linalg.norm(qpos[:2])),
            "z_distance_from_origin": float(qpos[1] - model.qpos0[1])}
    return {k: info[k] for k in RESET_INFO_KEYS[spec.name]}


def step_info(spec: TaskSpec, model, data, before: np.ndarray, action: np.ndarray) -> dict:
    """Gymnasium v5's `info` after a step that moved the tracked position from `before`.

    Positions, velocities and every reward term, signed as it enters the reward
    (`reward_ctrl` and `reward_contact` are <= 0); `total_reward` sums them.
    """
    ctrl = -(spec.ctrl_cost_weight * float(np.sum(np.square(action))))
    if spec.name == "Reacher":
        return {"reward_dist": -float(np.linalg.norm(fingertip_offset(model, data))),
                "reward_ctrl": ctrl}
    dt = model.opt.timestep * spec.frame_skip
    velocity = (tracked_position(spec, data) - before) / dt  # (1,) planar, (2,) Ant
    info = {"x_velocity": float(velocity[0]), "y_velocity": float(velocity[-1]),
            "reward_forward": spec.forward_reward_weight * float(velocity[0]),
            "reward_ctrl": ctrl, "reward_contact": -contact_cost(spec, data),
            "reward_survive": spec.healthy_reward * is_healthy(spec, data),
            **reset_info(spec, model, data)}
    return {k: info[k] for k in STEP_INFO_KEYS[spec.name]}


def total_reward(info: dict[str, float]) -> float:
    """The step reward from `step_info`'s terms, summed in Gymnasium's order."""
    if "reward_dist" in info:
        return info["reward_dist"] + info["reward_ctrl"]
    gains = info["reward_forward"] + info.get("reward_survive", 0.0)
    costs = -info["reward_ctrl"] - info.get("reward_contact", 0.0)
    return gains - costs


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
    `infos[i]` is env i's Gymnasium `info` from its last reset or step.

    Args:
        task: "HalfCheetah", "Hopper", "Walker2d", "Ant" or "Reacher" (or a TaskSpec).
        num_envs: N.
        seed: seeds the per-env reset-noise generators.
        dynamics: DynamicsRanges to randomize masses, friction and damping per
            episode (None: the nominal model), as `hubkit.envs.dynamics` describes.
        dynamics_seed: seeds the dynamics draws; `reset(seed=...)` reseeds them too.

    Example:
        >>> env = ReferenceVectorEnv("HalfCheetah", num_envs=2, seed=0)
        >>> obs = env.reset()
        >>> obs.shape, sorted(env.infos[0])
        ((2, 17), ['x_position'])
    """

    def __init__(self, task: str | TaskSpec, num_envs: int = 1, seed: int | None = None,
                 dynamics: DynamicsRanges | None = None, dynamics_seed: int | None = None):
        import copy

        import mujoco

        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        self.spec = task if isinstance(task, TaskSpec) else task_spec(task)
        self.model = load_model(self.spec)
        self.sampler = None if dynamics is None else DynamicsSampler(
            self.model, num_envs, dynamics, dynamics_seed)
        # Randomized envs each own a model copy; otherwise all share the nominal one.
        own = dynamics is not None
        self.models = [copy.copy(self.model) if own else self.model for _ in range(num_envs)]
        self.datas = [mujoco.MjData(m) for m in self.models]
        self.num_envs = num_envs
        self.obs_dim = obs_dim(self.spec, self.model)
        self.action_dim = self.model.nu
        self._seed(seed)
        self._pending: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.infos: list[dict[str, float]] = [{} for _ in range(num_envs)]

    def _seed(self, seed: int | None) -> None:
        kids = np.random.SeedSequence(seed).spawn(self.num_envs)
        self.rngs = [np.random.default_rng(k) for k in kids]
        self.steps = np.zeros(self.num_envs, dtype=np.int64)
        self.needs_reset = np.zeros(self.num_envs, dtype=bool)

    def queue_reset_state(self, i: int, qpos: np.ndarray, qvel: np.ndarray) -> None:
        """Use this (qpos, qvel) instead of random noise at env i's next reset."""
        self._pending[i] = (np.array(qpos, np.float64), np.array(qvel, np.float64))

    def set_dynamics(self, i: int, body_mass, geom_friction, dof_damping) -> None:
        """Give env i these model parameters (needs `dynamics=`, so that it owns its model)."""
        if self.models[i] is self.model:
            raise ValueError("set_dynamics needs an env built with dynamics=DynamicsRanges(...)")
        m = self.models[i]
        m.body_mass[:] = body_mass
        m.geom_friction[:] = np.reshape(geom_friction, m.geom_friction.shape)
        m.dof_damping[:] = dof_damping

    def _draw_dynamics(self, envs) -> None:
        for i in envs:
            self.set_dynamics(int(i), *self.sampler.draw(int(i)))

    def _reset_one(self, i: int) -> np.ndarray:
        state = self._pending.pop(i, None)
        if state is None:
            state = sample_reset_state(self.spec, self.model, self.rngs[i])
        model, data = self.models[i], self.datas[i]
        reset_to(model, data, *state)
        self.steps[i] = 0
        self.needs_reset[i] = False
        self.infos[i] = reset_info(self.spec, model, data)
        return observe(self.spec, model, data)

    def reset(self, seed: int | None = None) -> np.ndarray:
        """Reset every env (drawing new dynamics if randomized); returns obs (N, obs_dim)."""
        if seed is not None:
            self._seed(seed)
        if self.sampler is not None:
            if seed is not None:
                self.sampler.reseed(seed)
            self._draw_dynamics(range(self.num_envs))
        return np.stack([self._reset_one(i) for i in range(self.num_envs)])

    def _step_one(self, i: int, action: np.ndarray):
        if self.needs_reset[i]:
            return self._reset_one(i), 0.0, False, False
        model, data = self.models[i], self.datas[i]
        before = tracked_position(self.spec, data)
        physics_step(self.spec, model, data, action)
        self.infos[i] = step_info(self.spec, model, data, before, action)
        term = self.spec.terminate_when_unhealthy and not is_healthy(self.spec, data)
        self.steps[i] += 1
        limit = self.spec.max_episode_steps
        trunc = bool(limit and self.steps[i] >= limit)
        self.needs_reset[i] = term or trunc
        return observe(self.spec, model, data), total_reward(self.infos[i]), term, trunc

    def step(self, actions: np.ndarray):
        """Step every env; returns obs (N, obs_dim), rewards, terminated, truncated (N,).

        Envs whose episode just ended draw their next dynamics (if randomized),
        which apply from their reset on the next step.
        """
        actions = np.asarray(actions, dtype=np.float64)
        if actions.shape != (self.num_envs, self.action_dim):
            raise ValueError(
                f"actions must have shape {(self.num_envs, self.action_dim)}, got {actions.shape}")
        out = [self._step_one(i, actions[i]) for i in range(self.num_envs)]
        obs, rew, term, trunc = zip(*out, strict=True)
        term, trunc = np.array(term), np.array(trunc)
        if self.sampler is not None:
            self._draw_dynamics(np.flatnonzero(term | trunc))
        return np.stack(obs), np.array(rew), term, trunc
