"""A robot-arm reach task in PyBullet: the KUKA iiwa from pybullet_data, as a Gymnasium env.

The outline's 7.1 names PyBullet beside MuJoCo. This env is the same reach
task as hubkit/Reacher-v5, on a 7-joint industrial arm: move the end effector
(the last link's origin) to a target drawn in front of the robot.

* Action (7,) in [-1, 1]: joint velocity commands, scaled by `max_joint_speed`
  (rad/s) and applied by PyBullet's velocity motors for one control step of
  `frame_skip` physics steps at 240 Hz.
* Observation (20,): joint angles (7), joint velocities (7), end-effector
  position (3), end effector minus target (3).
* Reward: -distance to the target - `ctrl_cost` * |action|^2, as Reacher's.
  The episode is truncated after `max_episode_steps` (registered: 100); it
  never terminates early, so the return measures how fast and how close.
* `expert_action`: a damped least-squares inverse-kinematics controller from
  PyBullet's own `calculateInverseKinematics`, which reaches every target; it is
  the demonstrator for behavioral cloning (`python -m hubkit.envs.pybullet_reach`).

Needs the optional extra: `pip install 'hubkit-learn[pybullet]'`. pybullet is
imported when the env is made, and each env has its own physics client
(`p.DIRECT`, no window), so several can run side by side.
"""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np

N_JOINTS = 7
EE_LINK = 6
HOME = np.array([0.0, 0.5, 0.0, -1.2, 0.0, 1.0, 0.0])  # a bent, ready pose


class KukaReachEnv(gym.Env):
    """Reach a target with the KUKA iiwa's end effector (see the module docstring)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 24}

    def __init__(self, frame_skip: int = 10, max_joint_speed: float = 1.5,
                 ctrl_cost: float = 0.01, render_mode: str | None = None) -> None:
        import pybullet as p
        import pybullet_data

        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode: expected None or 'rgb_array', got {render_mode!r}")
        self.frame_skip, self.max_joint_speed = frame_skip, max_joint_speed
        self.ctrl_cost = ctrl_cost
        self.render_mode = render_mode
        self._p = p
        self.client = p.connect(p.DIRECT)
        p.setAdditionalSearchPath(pybullet_data.getDataPath(), physicsClientId=self.client)
        p.setGravity(0, 0, -9.81, physicsClientId=self.client)
        self.robot = p.loadURDF("kuka_iiwa/model.urdf", useFixedBase=True,
                                physicsClientId=self.client)
        limits = [p.getJointInfo(self.robot, j, physicsClientId=self.client)[8:10]
                  for j in range(N_JOINTS)]
        self.lower, self.upper = (np.array(x) for x in zip(*limits, strict=True))
        self.action_space = gym.spaces.Box(-1.0, 1.0, (N_JOINTS,), np.float32)
        # joint limits, the URDF's 10 rad/s velocity limit, a 2 m box around the base
        low = np.concatenate([self.lower, np.full(7, -10.0), np.full(3, -2.0), np.full(3, -4.0)])
        high = np.concatenate([self.upper, np.full(7, 10.0), np.full(3, 2.0), np.full(3, 4.0)])
        self.observation_space = gym.spaces.Box(low.astype(np.float32), high.astype(np.float32))
        self.target = np.zeros(3)

    # ------------------------------------------------------------------ state
    def _joints(self) -> tuple[np.ndarray, np.ndarray]:
        states = self._p.getJointStates(self.robot, range(N_JOINTS), physicsClientId=self.client)
        return np.array([s[0] for s in states]), np.array([s[1] for s in states])

    def end_effector(self) -> np.ndarray:
        """The end effector's world position (3,)."""
        state = self._p.getLinkState(self.robot, EE_LINK, physicsClientId=self.client)
        return np.array(state[4])

    def _obs(self) -> np.ndarray:
        q, qd = self._joints()
        ee = self.end_effector()
        obs = np.concatenate([q, qd, ee, ee - self.target]).astype(np.float32)
        return np.clip(obs, self.observation_space.low, self.observation_space.high)

    def _sample_target(self) -> np.ndarray:
        """A point in front of the robot that the arm can reach."""
        radius = self.np_random.uniform(0.4, 0.7)
        angle = self.np_random.uniform(-np.pi / 3, np.pi / 3)
        height = self.np_random.uniform(0.3, 0.8)
        return np.array([radius * np.cos(angle), radius * np.sin(angle), height])

    # ------------------------------------------------------------------ gym API
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        start = HOME + self.np_random.uniform(-0.1, 0.1, N_JOINTS)
        for j in range(N_JOINTS):
            self._p.resetJointState(self.robot, j, start[j], 0.0, physicsClientId=self.client)
        self.target = self._sample_target()
        return self._obs(), {"distance": float(np.linalg.norm(self.end_effector() - self.target))}

    def step(self, action):
        a = np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0)
        if a.shape != (N_JOINTS,):
            raise ValueError(f"action: expected shape ({N_JOINTS},), got {a.shape}")
        self._p.setJointMotorControlArray(
            self.robot, range(N_JOINTS), self._p.VELOCITY_CONTROL,
            targetVelocities=(a * self.max_joint_speed).tolist(), forces=[300.0] * N_JOINTS,
            physicsClientId=self.client)
        for _ in range(self.frame_skip):
            self._p.stepSimulation(physicsClientId=self.client)
        distance = float(np.linalg.norm(self.end_effector() - self.target))
        reward = -distance - self.ctrl_cost * float(a @ a)
        return self._obs(), reward, False, False, {"distance": distance}

    def expert_action(self) -> np.ndarray:
        """Joint-velocity command toward the IK solution for the target, in [-1, 1] (7,)."""
        q, _ = self._joints()
        goal = np.array(self._p.calculateInverseKinematics(
            self.robot, EE_LINK, self.target.tolist(), lowerLimits=self.lower.tolist(),
            upperLimits=self.upper.tolist(), jointRanges=(self.upper - self.lower).tolist(),
            restPoses=HOME.tolist(), maxNumIterations=50, physicsClientId=self.client))
        dt = self.frame_skip / 240.0
        return np.clip((goal[:N_JOINTS] - q) / (dt * self.max_joint_speed) * 0.5, -1.0, 1.0)

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        p = self._p
        view = p.computeViewMatrixFromYawPitchRoll([0.3, 0, 0.5], 1.8, 50, -30, 0, 2,
                                                   physicsClientId=self.client)
        proj = p.computeProjectionMatrixFOV(60, 1.0, 0.1, 10, physicsClientId=self.client)
        _, _, rgba, _, _ = p.getCameraImage(240, 240, view, proj, renderer=p.ER_TINY_RENDERER,
                                            physicsClientId=self.client)
        return np.asarray(rgba, dtype=np.uint8).reshape(240, 240, 4)[..., :3]

    def close(self) -> None:
        if getattr(self, "client", None) is not None:
            self._p.disconnect(physicsClientId=self.client)
            self.client = None


def register() -> None:
    """Register hubkit/KukaReach-v0 with Gymnasium (idempotent; pybullet is imported on make)."""
    if "hubkit/KukaReach-v0" not in gym.registry:
        gym.register(id="hubkit/KukaReach-v0",
                     entry_point="hubkit.envs.pybullet_reach:KukaReachEnv", max_episode_steps=100)


def mean_return(policy, episodes: int, seed: int) -> tuple[float, float]:
    """Mean return and mean final distance of `policy(env, obs) -> action` over episodes."""
    register()
    env = gym.make("hubkit/KukaReach-v0")
    returns, finals = [], []
    for i in range(episodes):
        obs, info = env.reset(seed=seed + i)
        total, done = 0.0, False
        while not done:
            obs, r, term, trunc, info = env.step(policy(env.unwrapped, obs))
            total, done = total + r, term or trunc
        returns.append(total)
        finals.append(info["distance"])
    env.close()
    return float(np.mean(returns)), float(np.mean(finals))


def clone(episodes: int, seed: int, steps: int):
    """Behavioral cloning of the IK expert: (policy, number of expert pairs)."""
    from hubkit.imitation.bc import BCConfig, fit_policy

    register()
    env = gym.make("hubkit/KukaReach-v0")
    obs_list, act_list = [], []
    for i in range(episodes):
        obs, _ = env.reset(seed=seed + i)
        done = False
        while not done:
            a = env.unwrapped.expert_action()
            obs_list.append(obs)
            act_list.append(a)
            obs, _, term, trunc, _ = env.step(a)
            done = term or trunc
    env.close()
    obs, act = np.array(obs_list), np.array(act_list)
    return fit_policy(obs, act, BCConfig(steps=steps, hidden=(128, 128), seed=seed)), len(obs)


def main(argv: list[str] | None = None) -> None:
    """Clone the IK expert on the KUKA reach task; compare expert, BC and zero action."""
    from hubkit import runlog

    p = runlog.parser("python -m hubkit.envs.pybullet_reach", __doc__, "kuka-reach")
    p.add_argument("--demos", type=int, default=30, help="expert episodes for BC")
    p.add_argument("--bc-steps", type=int, default=3000, help="gradient steps of the BC fit")
    p.add_argument("--eval-episodes", type=int, default=20)
    args = p.parse_args(argv)
    outputs = runlog.Outputs(args.out, args._run_name)
    with runlog.tracker(args, outputs) as track, \
            runlog.Progress(4, "stage", enabled=not args.quiet, tracker=track) as bar:
        policy, pairs = clone(args.demos, seed=0, steps=args.bc_steps)
        bar.update(expert_pairs=pairs)
        rows = {}
        for i, (name, act) in enumerate((
                ("expert (IK)", lambda env, obs: env.expert_action()),
                ("behavioral cloning", lambda env, obs: policy.act(obs[None])[0]),
                ("zero action", lambda env, obs: np.zeros(N_JOINTS)))):
            rows[name] = mean_return(act, args.eval_episodes, seed=10_000)
            bar.update(**{f"return_{i}": rows[name][0]})
    summary = {"demos": args.demos, "expert_pairs": pairs, "bc_steps": args.bc_steps,
               "eval_episodes": args.eval_episodes,
               "results": {k: {"return": v[0], "final_distance_m": v[1]} for k, v in rows.items()}}
    outputs.path("results.json").write_text(json.dumps(summary, indent=2) + "\n")
    for name, (ret, dist) in rows.items():
        print(f"{name:>20}: return {ret:8.2f}, final distance {dist:.3f} m")
    outputs.report()


if __name__ == "__main__":
    from hubkit import runlog

    runlog.run_main(main)
