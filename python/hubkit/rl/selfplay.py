"""Self-play PPO on a two-player PettingZoo game, scored against fixed players.

A two-player turn-based game (PettingZoo's tictactoe_v3 or connect_four_v3, an
AEC env) becomes a single-agent Gymnasium env once the other seat is played by a
fixed opponent (`OpponentEnv`): the opponent's move is part of the dynamics. The
learner takes a random seat each game and always sees the board from the side to
move (PettingZoo's observation), so one network plays both seats.

Self-play (as in TD-Gammon and AlphaGo's policy stage): training runs in
generations. Each generation plays PPO (`hubkit.rl.ppo`, unchanged) against frozen
snapshots of earlier generations, half the envs against the latest one and half
against one drawn from the whole pool (which starts with the random player), so
the learner does not forget how to beat old strategies. After each generation the
greedy policy plays `eval_games` games against two fixed baselines, a random player
and a one-move-lookahead heuristic (win if it can, block if it must), and the win
rates are plotted over generations.

Illegal moves: the observation carries PettingZoo's action mask; `MaskedActor` sets
the logits of illegal actions to a large negative number before the softmax.

Needs PettingZoo's classic games (`pip install pettingzoo pygame`).

Shapes: D board features, A actions; a flat observation is (D + A,) = board, mask.
"""

from __future__ import annotations

import copy
import dataclasses
import json

import numpy as np
import torch
from torch import nn

from hubkit import runlog
from hubkit.rl import normalize, ppo
from hubkit.rl.policies import ActorCritic, Categorical, mlp

GAMES = {"tictactoe": ("tictactoe_v3", 3), "connect_four": ("connect_four_v3", 4)}
"""game -> (PettingZoo classic module, marks in a row that win)."""


def make_game(game: str):
    """A PettingZoo classic AEC env by short name ("tictactoe" or "connect_four")."""
    if game not in GAMES:
        raise ValueError(f"game: expected one of {sorted(GAMES)}, got {game!r}")
    import importlib

    return importlib.import_module(f"pettingzoo.classic.{GAMES[game][0]}").env()


def flat_observation(obs: dict) -> np.ndarray:
    """PettingZoo's {"observation": (H, W, 2), "action_mask": (A,)} -> (H*W*2 + A,) float32."""
    return np.concatenate([obs["observation"].ravel(), obs["action_mask"]]).astype(np.float32)


class MaskedActor(nn.Module):
    """obs (B, D + A) -> logits (B, A) of `body`(board), illegal actions at -1e9."""

    def __init__(self, body: nn.Module, n_actions: int):
        super().__init__()
        self.body, self.n_actions = body, n_actions

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        board, mask = obs[..., :-self.n_actions], obs[..., -self.n_actions:]
        # subtle: a finite fill, not -inf: a finished game's mask is all zeros, and
        # -inf everywhere would make the softmax NaN on that (ignored) reset row.
        return self.body(board).masked_fill(mask < 0.5, -1e9)


class DropMask(nn.Module):
    """obs (B, D + A) -> board (B, D): the critic ignores the mask."""

    def __init__(self, n_actions: int):
        super().__init__()
        self.n_actions = n_actions

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return obs[..., :-self.n_actions]


def make_masked_policy(obs_space, act_space, hidden: tuple[int, ...] = (128, 128)) -> ActorCritic:
    """An ActorCritic over flat (board, mask) observations with masked logits."""
    n = int(act_space.n)
    d = int(obs_space.shape[0]) - n
    critic = nn.Sequential(DropMask(n), mlp((d, *hidden, 1), 1.0))
    return ActorCritic(MaskedActor(mlp((d, *hidden, n), 0.01), n), Categorical(), critic)


def random_player(obs: np.ndarray, n_actions: int, rng: np.random.Generator) -> int:
    """A uniformly random legal move."""
    return int(rng.choice(np.flatnonzero(obs[-n_actions:] > 0.5)))


def _cell(board: np.ndarray, game: str, action: int) -> tuple[int, int] | None:
    """Where `action` puts a mark on the (H, W) occupied board (a column drops to the bottom)."""
    if game == "tictactoe":
        return divmod(action, 3)
    empty = np.flatnonzero(board[:, action] == 0)
    return (int(empty.max()), action) if len(empty) else None


def wins(marks: np.ndarray, k: int) -> bool:
    """True when the (H, W) bool board holds k in a row (row, column or either diagonal)."""
    from numpy.lib.stride_tricks import sliding_window_view as windows

    squares = windows(marks, (k, k))  # (H-k+1, W-k+1, k, k)
    lines = (squares.all(-1), squares.all(-2),  # rows, columns of every k x k square
             np.diagonal(squares, axis1=-2, axis2=-1)[..., None, :].all(-1),
             np.diagonal(squares[..., ::-1], axis1=-2, axis2=-1)[..., None, :].all(-1))
    return any(bool(line.any()) for line in lines)


def heuristic_player(obs: np.ndarray, n_actions: int, rng: np.random.Generator,
                     game: str = "tictactoe") -> int:
    """Win now if a move wins; else block the opponent's winning move; else random."""
    legal = np.flatnonzero(obs[-n_actions:] > 0.5)
    shape = (3, 3, 2) if game == "tictactoe" else (6, 7, 2)
    planes = obs[:-n_actions].reshape(shape) > 0.5  # [..., 0] mine, [..., 1] theirs
    k = GAMES[game][1]
    for side in (0, 1):  # first look for my win, then for theirs to block
        for a in legal:
            cell = _cell(planes[..., 0] | planes[..., 1], game, int(a))
            marks = planes[..., side].copy()
            marks[cell] = True
            if wins(marks, k):
                return int(a)
    return int(rng.choice(legal))


class PolicyPlayer:
    """A frozen ActorCritic as an opponent: samples (or takes the mode of) its masked policy."""

    def __init__(self, policy: ActorCritic, deterministic: bool = False):
        self.policy, self.deterministic = copy.deepcopy(policy).eval(), deterministic

    def __call__(self, obs: np.ndarray, n_actions: int, rng: np.random.Generator) -> int:
        action, _, _ = self.policy.act(torch.as_tensor(obs)[None], self.deterministic)
        return int(action[0])


def _env_base():
    import gymnasium as gym

    return gym.Env


class OpponentEnv(_env_base()):
    """A two-player PettingZoo game as a Gymnasium env; `opponent` plays the other seat.

    Args:
        game: "tictactoe" or "connect_four".
        opponent: (flat_obs, n_actions, rng) -> action; default `random_player`.

    The learner's seat is drawn at each reset. Reward: +1 win, -1 loss, 0 draw, at the
    game's last step. Observations are `flat_observation`s from the learner's side.
    """

    def __init__(self, game: str = "tictactoe", opponent=None):
        import gymnasium as gym

        self.game_name, self.game = game, make_game(game)
        self.opponent = opponent or random_player
        self.game.reset(seed=0)
        agent = self.game.possible_agents[0]
        self.n_actions = int(self.game.action_space(agent).n)
        size = flat_observation(self.game.observe(agent)).shape[0]
        self.observation_space = gym.spaces.Box(0.0, 1.0, (size,), np.float32)
        self.action_space = gym.spaces.Discrete(self.n_actions)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.game.reset(seed=None if seed is None else int(seed))
        self.me = self.game.possible_agents[int(self.np_random.integers(2))]
        if self.game.agent_selection != self.me:
            self._opponent_moves()
        return flat_observation(self.game.observe(self.me)), {"seat": self.me}

    def _opponent_moves(self) -> None:
        obs = flat_observation(self.game.observe(self.game.agent_selection))
        self.game.step(self.opponent(obs, self.n_actions, self.np_random))

    def step(self, action):
        self.game.step(int(action))
        if not self.game.terminations[self.me]:
            self._opponent_moves()
        done = bool(self.game.terminations[self.me] or self.game.truncations[self.me])
        reward = float(self.game.rewards[self.me]) if done else 0.0
        return flat_observation(self.game.observe(self.me)), reward, done, False, {}


def play(player, opponent, game: str, games: int, seed: int) -> dict:
    """Win, draw and loss rates of `player` against `opponent` over `games` games."""
    env = OpponentEnv(game, opponent)
    results = []
    for g in range(games):
        obs, _ = env.reset(seed=seed + g)
        done, reward = False, 0.0
        while not done:
            obs, reward, done, _, _ = env.step(player(obs, env.n_actions, env.np_random))
        results.append(reward)
    r = np.array(results)
    return {"win": float((r > 0).mean()), "draw": float((r == 0).mean()),
            "loss": float((r < 0).mean())}


@dataclasses.dataclass
class SelfPlayConfig(ppo.PPOConfig):
    """Self-play PPO settings; the defaults beat the random tic-tac-toe player in minutes."""

    env_id: str = "tictactoe"
    """The game: "tictactoe" or "connect_four"."""
    num_envs: int = 8
    """Games played side by side."""
    num_steps: int = 128
    """T learner moves per env per rollout."""
    generations: int = 20
    """Self-play generations (each ends with a frozen snapshot and an evaluation)."""
    steps_per_generation: int = 8192
    """Learner moves of PPO per generation."""
    lr: float = 5e-4
    """Adam learning rate (constant)."""
    anneal_lr: bool = False
    """A generation is short; the rate stays constant across them."""
    hidden: tuple[int, ...] = (128, 128)
    """Hidden widths of the actor and the critic."""
    gamma: float = 0.99
    """Discount (games are short)."""
    eval_games: int = 200
    """Games against each fixed baseline after each generation."""
    eval_every: int = 0
    """The single-agent evaluation of onpolicy does not apply."""


def make_selfplay_envs(cfg: SelfPlayConfig):
    """cfg.num_envs OpponentEnvs (random opponents at first) as a NEXT_STEP vector env."""
    import gymnasium as gym

    fns = [lambda: OpponentEnv(cfg.env_id) for _ in range(cfg.num_envs)]
    return normalize.wrap(gym.vector.SyncVectorEnv(fns))


def set_opponents(envs, pool: list, rng: np.random.Generator) -> None:
    """Even envs face the newest opponent in `pool`, odd ones a random earlier one."""
    for i, env in enumerate(envs.unwrapped.envs):
        env.opponent = pool[-1] if i % 2 == 0 else pool[int(rng.integers(len(pool)))]


def evaluate(policy: ActorCritic, cfg: SelfPlayConfig, seed: int) -> dict:
    """Greedy win/draw/loss rates against the random and the heuristic player."""
    greedy = PolicyPlayer(policy, deterministic=True)
    heuristic = _Heuristic(cfg.env_id)
    out = {}
    for name, opp in (("random", random_player), ("heuristic", heuristic)):
        for k, v in play(greedy, opp, cfg.env_id, cfg.eval_games, seed).items():
            out[f"{name}_{k}"] = v
    return out


class _Heuristic:
    def __init__(self, game: str):
        self.game = game

    def __call__(self, obs, n_actions, rng):
        return heuristic_player(obs, n_actions, rng, self.game)


def train_selfplay(cfg: SelfPlayConfig, progress=None, track=None) -> tuple[ActorCritic, list]:
    """Generations of PPO against a growing pool of frozen snapshots; returns (policy, log)."""
    envs, rng = make_selfplay_envs(cfg), np.random.default_rng(cfg.seed)
    torch.manual_seed(cfg.seed)
    policy = make_masked_policy(envs.single_observation_space, envs.single_action_space,
                                cfg.hidden)
    pool, log, steps = [random_player], [{"generation": 0, "step": 0,
                                          **evaluate(policy, cfg, cfg.seed)}], 0
    for g in range(1, cfg.generations + 1):
        set_opponents(envs, pool, rng)
        gen_cfg = dataclasses.replace(cfg, total_steps=cfg.steps_per_generation, seed=cfg.seed + g)
        result = ppo.train(gen_cfg, envs=envs, policy_factory=lambda o, a: policy)
        steps += result.steps
        pool.append(PolicyPlayer(policy))
        row = {"generation": g, "step": steps, **evaluate(policy, cfg, cfg.seed + 1000 * g),
               "train_return": result.log[-1]["train_return"]}
        log.append(row)
        if track is not None:
            track.log(steps, **{k: v for k, v in row.items() if k != "step"})
        if progress is not None:
            progress.update(random_win=row["random_win"], heuristic_win=row["heuristic_win"])
    return policy, log


def plot_winrate(log: list[dict], path, title: str) -> None:
    """Win rate (and heuristic draw rate) of the greedy policy over self-play generations."""
    from hubkit.rl.plots import _pyplot

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    gens = [r["generation"] for r in log]
    ax.plot(gens, [r["random_win"] for r in log], "o-", ms=3, label="wins vs random")
    ax.plot(gens, [r["heuristic_win"] for r in log], "s-", ms=3, label="wins vs heuristic")
    ax.plot(gens, [r["heuristic_win"] + r["heuristic_draw"] for r in log], "s--", ms=3,
            label="wins + draws vs heuristic")
    ax.set(xlabel="self-play generation", ylabel="rate", ylim=(-0.02, 1.02), title=title)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def add_arguments(p):
    """The `selfplay` sub-command's flags."""
    p.add_argument("--game", choices=sorted(GAMES), default="tictactoe", help="the game")
    p.add_argument("--generations", type=int, default=20, help="self-play generations")
    p.add_argument("--steps-per-generation", type=int, default=8192, help="learner moves each")
    p.add_argument("--eval-games", type=int, default=200, help="games vs each baseline")
    p.add_argument("--seed", type=int, default=0, help="seeds torch, games, opponents")
    return p


def run_cli(args) -> None:
    """`python -m hubkit.rl.multiagent selfplay`: train, plot, save."""
    torch.set_num_threads(1)
    cfg = SelfPlayConfig(env_id=args.game, generations=args.generations, seed=args.seed,
                         steps_per_generation=args.steps_per_generation,
                         eval_games=args.eval_games)
    outputs = runlog.Outputs(args.out, "selfplay")
    with runlog.quiet_third_party(), runlog.tracker(args, outputs) as track:
        track.config(dataclasses.asdict(cfg))
        with runlog.Progress(cfg.generations, "generation", enabled=not args.quiet) as bar:
            policy, log = train_selfplay(cfg, progress=bar, track=track)
    torch.save({"config": dataclasses.asdict(cfg), "state_dict": policy.state_dict()},
               outputs.path("policy.pt"))
    plot_winrate(log, outputs.path("winrate.png"), f"Self-play PPO on {cfg.env_id}")
    summary = {"game": cfg.env_id, "seed": cfg.seed, "generations": cfg.generations,
               "learner_moves": log[-1]["step"], "first": log[0], "last": log[-1]}
    outputs.path("summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(f"after {cfg.generations} generations: wins vs random {log[-1]['random_win']:.2f}, "
          f"vs heuristic {log[-1]['heuristic_win']:.2f} (draws {log[-1]['heuristic_draw']:.2f})")
    outputs.report()
