"""Multi-agent environments for hubkit's PPO: a cooperative PettingZoo env and two adapters.

* `CooperativeSpread`: a PettingZoo `ParallelEnv` defined here (the grid cousin of
  MPE's simple_spread, which now lives in the separate `mpe2` package). N agents
  on an S x S grid must cover N landmarks; every agent gets the same team reward,
  minus the summed distance from each landmark to its nearest agent, so the team
  only scores when agents split up. It passes PettingZoo's `parallel_api_test`
  (and, through `parallel_to_aec`, `api_test`).
* `SharedAgentsVectorEnv`: M copies of a ParallelEnv as one Gymnasium vector env
  of N = M * agents rows, one row per agent. A single policy acting on every row
  is parameter sharing; hubkit's on-policy loop (`hubkit.rl.onpolicy`) then trains
  it unchanged.
* `OpponentEnv` (`hubkit.rl.selfplay`) turns a two-player AEC game into a
  single-agent env against a fixed opponent.

Shapes: N rows = copies * agents; obs (N, obs_dim) float32; actions (N,) int64.

Example:
    >>> env = CooperativeSpread(num_agents=2, size=5)
    >>> obs, infos = env.reset(seed=0)
    >>> sorted(obs), obs["agent_0"].shape
    (['agent_0', 'agent_1'], (8,))
"""

from __future__ import annotations

import numpy as np

_MOVES = np.array([[0, 0], [0, 1], [0, -1], [-1, 0], [1, 0]])  # stay, up, down, left, right


def _parallel_env_base():
    from pettingzoo import ParallelEnv

    return ParallelEnv


class CooperativeSpread(_parallel_env_base()):
    """N agents cover N landmarks on a grid; one shared reward per step.

    Args:
        num_agents: N agents (and N landmarks).
        size: S, the grid's side.
        max_cycles: steps before every agent is truncated.
        render_mode: None (no rendering).

    Observation of agent i (float32, in [-1, 1]): its own position / S, then every
    landmark's position relative to it / S, then every other agent's, relative / S:
    2 + 2N + 2(N - 1) numbers. Actions: Discrete(5), stay/up/down/left/right.
    Reward (shared): -(sum over landmarks of the L1 distance to the nearest agent) / S.
    """

    metadata = {"name": "hubkit_cooperative_spread_v0", "render_modes": [],
                "is_parallelizable": True}

    def __init__(self, num_agents: int = 3, size: int = 6, max_cycles: int = 25,
                 render_mode: str | None = None):
        if num_agents < 1:
            raise ValueError(f"num_agents: expected >= 1, got {num_agents}")
        if size < 2:
            raise ValueError(f"size: expected >= 2, got {size}")
        if render_mode is not None:
            raise ValueError(f"render_mode: only None is supported, got {render_mode!r}")
        self.n, self.size, self.max_cycles, self.render_mode = num_agents, size, max_cycles, None
        self.possible_agents = [f"agent_{i}" for i in range(num_agents)]
        self.agents: list[str] = []
        self._rng = np.random.default_rng()
        import gymnasium as gym

        # one space object per env, the same for every agent (PettingZoo's api_test
        # expects observation_space(agent) to return the same object each call)
        self._obs_space = gym.spaces.Box(-1.0, 1.0, (4 * num_agents,), np.float32)
        self._act_space = gym.spaces.Discrete(5)

    def observation_space(self, agent):
        return self._obs_space

    def action_space(self, agent):
        return self._act_space

    def reset(self, seed=None, options=None):
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self.agents, self.t = list(self.possible_agents), 0
        self.pos = self._rng.integers(0, self.size, (self.n, 2))  # (N, 2)
        self.landmarks = self._rng.integers(0, self.size, (self.n, 2))  # (N, 2)
        return self._observations(), {a: {} for a in self.agents}

    def step(self, actions):
        for i, agent in enumerate(self.possible_agents):
            if agent in actions:
                self.pos[i] = np.clip(self.pos[i] + _MOVES[int(actions[agent])], 0, self.size - 1)
        self.t += 1
        team = self.team_reward()
        done = self.t >= self.max_cycles
        agents = self.agents
        obs = self._observations()
        rewards = {a: team for a in agents}
        terms, truncs = {a: False for a in agents}, {a: done for a in agents}
        infos = {a: {} for a in agents}
        if done:
            self.agents = []
        return obs, rewards, terms, truncs, infos

    def team_reward(self) -> float:
        """-(sum over landmarks of the L1 distance to the nearest agent) / S."""
        dist = np.abs(self.landmarks[:, None] - self.pos[None]).sum(-1)  # (landmarks, agents)
        return -float(dist.min(1).sum()) / self.size

    def _observations(self) -> dict:
        out = {}
        for i, agent in enumerate(self.agents):
            others = np.delete(self.pos, i, axis=0) - self.pos[i]
            parts = [self.pos[i], (self.landmarks - self.pos[i]).ravel(), others.ravel()]
            out[agent] = (np.concatenate(parts) / self.size).astype(np.float32)
        return out

    def render(self):
        return None

    def close(self):
        pass


def _vector_base():
    import gymnasium as gym

    return gym.vector.VectorEnv


class SharedAgentsVectorEnv(_vector_base()):
    """M copies of a PettingZoo ParallelEnv as one NEXT_STEP vector env, one row per agent.

    Args:
        env_fns: M callables, each returning a ParallelEnv whose agents share one
            observation and one action space and all act every step.

    Row k is agent k % A of copy k // A (A agents). When a copy's episode ends,
    its rows report done and, on the next step, the reset observation with reward 0
    (Gymnasium's NEXT_STEP autoreset, what `hubkit.rl.rollout.Collector` expects).
    """

    def __init__(self, env_fns):
        import gymnasium as gym

        self.envs = [fn() for fn in env_fns]
        first = self.envs[0]
        self.agent_ids = list(first.possible_agents)
        self.num_agents = len(self.agent_ids)
        self.num_envs = len(self.envs) * self.num_agents
        self.single_observation_space = first.observation_space(self.agent_ids[0])
        self.single_action_space = first.action_space(self.agent_ids[0])
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space,
                                                              self.num_envs)
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, self.num_envs)
        self.metadata = {"autoreset_mode": gym.vector.AutoresetMode.NEXT_STEP}
        self._needs_reset = np.zeros(len(self.envs), dtype=bool)

    def reset(self, *, seed=None, options=None):
        obs = [self._reset_copy(c, None if seed is None else seed + c)
               for c in range(len(self.envs))]
        self._needs_reset[:] = False
        return np.concatenate(obs), {}

    def _reset_copy(self, c: int, seed=None) -> np.ndarray:
        obs, _ = self.envs[c].reset(seed=seed)
        return np.stack([obs[a] for a in self.agent_ids])  # (A, obs_dim)

    def step(self, actions):
        a = self.num_agents
        actions = np.asarray(actions).reshape(len(self.envs), a)
        obs, rew = np.zeros(self.observation_space.shape, np.float32), np.zeros(self.num_envs)
        term, trunc = np.zeros(self.num_envs, bool), np.zeros(self.num_envs, bool)
        for c, env in enumerate(self.envs):
            rows = slice(c * a, (c + 1) * a)
            if self._needs_reset[c]:
                obs[rows], self._needs_reset[c] = self._reset_copy(c), False
                continue
            o, r, te, tr, _ = env.step(dict(zip(self.agent_ids, actions[c].tolist(),
                                                strict=True)))
            obs[rows] = np.stack([o[k] for k in self.agent_ids])
            rew[rows] = [r[k] for k in self.agent_ids]
            term[rows], trunc[rows] = ([te[k] for k in self.agent_ids],
                                       [tr[k] for k in self.agent_ids])
            self._needs_reset[c] = bool(term[rows].any() or trunc[rows].any())
        return obs, rew, term, trunc, {}

    def close(self, **kwargs):
        for env in self.envs:
            env.close()
