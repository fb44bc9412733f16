"""Adversarial imitation (GAIL) on Reacher: a discriminator's score as PPO's only reward.

GAIL (Ho & Ermon, 2016, https://arxiv.org/abs/1606.03476) imitates without
copying actions. A discriminator D(s, a) learns to tell the expert's
(observation, action) pairs from the policy's by binary cross-entropy, and the
policy is trained by RL (here `hubkit.rl.ppo`) to produce pairs the
discriminator takes for the expert's. Unlike behavioral cloning it learns on
the states its own policy visits, so its mistakes are penalized where they
happen; unlike RL it never sees the task's reward.

The reward: r(s, a) = log D - log(1 - D), the discriminator's logit (the AIRL
form, Fu et al. 2018). At the discriminator's optimum it is
log(p_expert(s, a) / p_policy(s, a)), so maximizing it drives the policy's
occupancy toward the expert's, and it is positive or negative, so it favours
neither long nor short episodes. The original -log(1 - D) = softplus(logit)
(`--reward positive`) is always positive: a bonus for every step survived,
which biases tasks whose episodes can end early. Reacher's episodes all last
50 steps, so there both work; the logit keeps the lesson general.

The discriminator may add a gradient penalty (Gulrajani et al. 2017 in the
form Kostrikov et al. 2019 use for imitation, https://arxiv.org/abs/1809.02925):
(|grad_x D(x)| - 1)^2 at random points between expert and policy pairs, which
keeps D smooth, so its reward still points somewhere once it separates the two.

What the learner sees: the training envs are wrapped in `HiddenReward`, which
replaces every env reward by NaN, and `GAILUpdate` overwrites the rollout's
rewards with the discriminator's before PPO computes advantages, so a leak
would turn the losses into NaN. The env's return is only measured, by
deterministic evaluations (`hubkit.imitation.bc.mean_return`, as for the
expert, BC and random reference lines) and by the episode statistics logged
as `train_return`.

`python -m hubkit.imitation.gail --out DIR` runs it on hubkit/Reacher-v5 with
demonstrations from the reach controller (`hubkit.imitation.tasks.expert_policy`,
through `hubkit.imitation.demos`) or from a Minari dataset (`--demos PATH`).

Shapes: B pairs in a batch, O observation size, A action size, T steps, N envs.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from hubkit.imitation.bc import BCConfig, _plot, fit_policy, mean_return
from hubkit.imitation.demos import Episode, Normalizer, rollout, transitions
from hubkit.imitation.tasks import expert_policy, reacher_env
from hubkit.rl import normalize, onpolicy, ppo
from hubkit.rl.policies import make_policy, mlp

REWARDS = ("logit", "positive")


class Standardize(nn.Module):
    """(x - mean) / std with fixed statistics (buffers, so they travel with the state_dict)."""

    def __init__(self, norm: Normalizer) -> None:
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(norm.mean, dtype=torch.float32))
        self.register_buffer("std", torch.as_tensor(norm.std, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class Discriminator(nn.Module):
    """D(s, a) as a logit: observation (standardized) and action -> MLP -> (B,).

    sigmoid(logit) is the probability that the pair is the expert's.

    Example:
        >>> d = Discriminator(Normalizer(np.zeros(3), np.ones(3)), act_dim=2)
        >>> d(torch.zeros(5, 3), torch.zeros(5, 2)).shape
        torch.Size([5])
    """

    def __init__(self, obs_norm: Normalizer, act_dim: int,
                 hidden: tuple[int, ...] = (64, 64)) -> None:
        super().__init__()
        self.obs_norm = Standardize(obs_norm)
        self.net = mlp((len(obs_norm.mean) + act_dim, *hidden, 1), out_gain=1.0)

    def forward(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        """obs (B, O), act (B, A) -> logits (B,)."""
        return self.net(torch.cat([self.obs_norm(obs), act], dim=1)).squeeze(1)


def gail_reward(disc: Discriminator, obs: torch.Tensor, act: torch.Tensor,
                kind: str = "logit") -> torch.Tensor:
    """The policy's reward (B,): "logit" log D - log(1 - D), or "positive" -log(1 - D).

    Example:
        >>> d = Discriminator(Normalizer(np.zeros(3), np.ones(3)), act_dim=2)
        >>> r = gail_reward(d, torch.zeros(4, 3), torch.zeros(4, 2), "positive")
        >>> bool((r > 0).all())
        True
    """
    if kind not in REWARDS:
        raise ValueError(f"kind: expected one of {REWARDS}, got {kind!r}")
    with torch.no_grad():
        logits = disc(obs, act)
    # -log(1 - sigmoid(l)) = softplus(l), computed without forming 1 - D
    return logits if kind == "logit" else F.softplus(logits)


def gradient_penalty(disc: Discriminator, expert: tuple[torch.Tensor, torch.Tensor],
                     policy: tuple[torch.Tensor, torch.Tensor],
                     gen: torch.Generator | None = None) -> torch.Tensor:
    """E[(|grad D(x)| - 1)^2] at x uniformly between paired expert and policy rows (scalar).

    Both pairs are (obs (B, O), act (B, A)) with the same B.
    """
    x_e, x_p = torch.cat(expert, 1), torch.cat(policy, 1)  # (B, O + A)
    u = torch.rand(len(x_e), 1, generator=gen)
    x = (u * x_e + (1 - u) * x_p).requires_grad_(True)
    obs_dim = expert[0].shape[1]
    logits = disc(x[:, :obs_dim], x[:, obs_dim:])
    (grad,) = torch.autograd.grad(logits.sum(), x, create_graph=True)
    return (grad.norm(dim=1) - 1.0).pow(2).mean()


def discriminator_loss(disc: Discriminator, expert: tuple[torch.Tensor, torch.Tensor],
                       policy: tuple[torch.Tensor, torch.Tensor], grad_penalty: float = 0.0,
                       gen: torch.Generator | None = None) -> tuple[torch.Tensor, dict]:
    """Binary cross-entropy, expert pairs labelled 1 and policy pairs 0, plus the penalty.

    Args:
        expert, policy: (obs (B, O), act (B, A)) each, the same B.
        grad_penalty: weight of `gradient_penalty` (0: none).

    Returns:
        the loss (scalar) and {"disc_loss", "disc_accuracy", "expert_prob", "policy_prob"}.
    """
    le, lp = disc(*expert), disc(*policy)  # (B,) each
    bce = (F.binary_cross_entropy_with_logits(le, torch.ones_like(le))
           + F.binary_cross_entropy_with_logits(lp, torch.zeros_like(lp)))
    loss = bce if grad_penalty == 0 else bce + grad_penalty * gradient_penalty(
        disc, expert, policy, gen)
    with torch.no_grad():
        acc = 0.5 * ((le > 0).float().mean() + (lp < 0).float().mean())
        stats = {"disc_loss": float(bce), "disc_accuracy": float(acc),
                 "expert_prob": float(torch.sigmoid(le).mean()),
                 "policy_prob": float(torch.sigmoid(lp).mean())}
    return loss, stats


def train_discriminator(disc: Discriminator, optimizer: torch.optim.Optimizer,
                        expert: tuple[torch.Tensor, torch.Tensor],
                        policy: tuple[torch.Tensor, torch.Tensor], epochs: int, batch_size: int,
                        grad_penalty: float, gen: torch.Generator) -> dict:
    """`epochs` passes over the policy pairs, each minibatch against as many random expert pairs.

    Returns the stats of the first minibatch (before any step on this data: the
    accuracy on fresh policy samples) with the last minibatch's loss as "disc_loss_after".
    """
    n = len(policy[0])
    first: dict = {}
    for _ in range(epochs):
        for rows in torch.randperm(n, generator=gen).split(batch_size):
            pick = torch.randint(len(expert[0]), (len(rows),), generator=gen)
            loss, stats = discriminator_loss(disc, (expert[0][pick], expert[1][pick]),
                                             (policy[0][rows], policy[1][rows]), grad_penalty,
                                             gen)
            first = first or stats
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return {**first, "disc_loss_after": stats["disc_loss"]}


# ------------------------------------------------------------------ GAIL with PPO

class HiddenReward:
    """A vector env whose rewards come back as NaN: the learner cannot use them.

    Wrap it around `hubkit.rl.normalize.wrap`'s chain, whose RecordEpisodeStatistics
    (inside) still measures the true returns for logging.
    """

    def __init__(self, env) -> None:
        self.env, self.num_envs, self.metadata = env, env.num_envs, env.metadata
        self.single_observation_space = env.single_observation_space
        self.single_action_space = env.single_action_space

    def reset(self, **kwargs):
        return self.env.reset(**kwargs)

    def step(self, actions):
        obs, reward, terminated, truncated, infos = self.env.step(actions)
        return obs, np.full_like(reward, np.nan), terminated, truncated, infos

    def close(self) -> None:
        self.env.close()


def reacher_ppo() -> ppo.PPOConfig:
    """PPO's settings for Reacher: those of `hubkit.imitation.bc_vs_rl`, no reward scaling,
    and gamma 0.9 (rl-baselines3-zoo's for Reacher: reaching is a short-horizon task; with
    0.99 and a 1.0 discriminator weight, 100k steps did not improve on the first policy)."""
    return ppo.PPOConfig(env_id="hubkit/Reacher-v5", num_envs=8, num_steps=128, lr=3e-4,
                         gamma=0.9, ent_coef=0.0, update_epochs=10, num_minibatches=8,
                         eval_every=0)


@dataclass
class GAILConfig:
    """GAIL on Reacher: the discriminator's settings, the budget, and PPO's."""

    total_steps: int = 250_000
    """Env steps of the policy's own rollouts (the budget; demonstrations not counted)."""
    reward: str = "logit"
    """"logit": log D - log(1 - D); "positive": -log(1 - D) (see the module docstring)."""
    disc_hidden: tuple[int, ...] = (64, 64)
    """Hidden widths of the discriminator's MLP."""
    disc_lr: float = 1e-3
    """Adam learning rate of the discriminator."""
    disc_epochs: int = 4
    """Passes of the discriminator over each rollout (with 1 pass at lr 3e-4 its accuracy
    stayed near 0.6 and its reward was mostly noise)."""
    disc_batch: int = 256
    """Policy pairs per discriminator step (with as many expert pairs)."""
    grad_penalty: float = 1.0
    """Weight of the gradient penalty (0: plain cross-entropy; 10 held D near chance here)."""
    init_log_std: float = -1.0
    """The policy's initial log-std (the expert is deterministic; std 1 is mostly noise)."""
    eval_every: int = 10_240
    """Env steps between deterministic evaluations on the true reward."""
    eval_episodes: int = 32
    """Episodes per evaluation."""
    seed: int = 0
    """Seeds the discriminator, PPO and the evaluation episodes."""
    ppo: ppo.PPOConfig = field(default_factory=reacher_ppo)
    """The policy's trainer (its total_steps and seed are replaced by the fields above)."""


def deterministic(policy):
    """The ActorCritic as an env policy: (N, O) array -> the mean action clipped to [-1, 1]."""
    def act(obs: np.ndarray) -> np.ndarray:
        a, _, _ = policy.act(torch.as_tensor(obs, dtype=torch.float32), deterministic=True)
        return np.clip(policy.env_action(a), -1.0, 1.0)
    return act


def standardized_policy(norm: Normalizer, hidden: tuple[int, ...], init_log_std: float = 0.0):
    """A policy factory: hubkit's ActorCritic with the demonstrations' fixed obs scaling."""
    def factory(obs_space, act_space):
        pi = make_policy(obs_space, act_space, hidden, init_log_std=init_log_std)
        pi.actor = nn.Sequential(Standardize(norm), pi.actor)
        pi.critic = nn.Sequential(Standardize(norm), pi.critic)
        return pi
    return factory


class GAILUpdate:
    """PPO's update preceded by GAIL's: train D on the rollout, replace its rewards by D's.

    Called by `hubkit.rl.onpolicy.run` after each rollout, like `ppo.update`.

    Args:
        disc: the discriminator (trained in place).
        expert: (obs (M, O), actions (M, A)) arrays of expert pairs.
        cfg: the GAIL settings.
        bounds: (low, high) of the env's actions: D sees the executed (clipped) action.
        evaluate: policy -> true env return, called every cfg.eval_every steps.
    """

    def __init__(self, disc: Discriminator, expert: tuple[np.ndarray, np.ndarray],
                 cfg: GAILConfig, bounds, evaluate) -> None:
        self.disc, self.cfg, self.evaluate = disc, cfg, evaluate
        self.expert = tuple(torch.as_tensor(x, dtype=torch.float32) for x in expert)
        self.low, self.high = (torch.as_tensor(b, dtype=torch.float32) for b in bounds)
        self.optimizer = torch.optim.Adam(disc.parameters(), lr=cfg.disc_lr)
        self.gen = torch.Generator().manual_seed(cfg.seed + 1)

    def executed(self, policy, buf) -> tuple[torch.Tensor, torch.Tensor]:
        """The rollout's pairs as the env saw them: obs (T * N, O), actions (T * N, A)."""
        # subtle: the buffer holds the Gaussian's raw sample, which can leave [-1, 1]; the
        # expert's actions never do, so D would tell them apart by that alone.
        acts = torch.as_tensor(policy.env_action(buf.actions.flatten(0, 1)))
        return buf.obs.flatten(0, 1), torch.maximum(torch.minimum(acts, self.high), self.low)

    def relabel(self, policy, buf) -> torch.Tensor:
        """Overwrite buf.rewards (T, N) by D's reward (0 on NEXT_STEP reset rows)."""
        obs, act = self.executed(policy, buf)
        reward = gail_reward(self.disc, obs, act, self.cfg.reward).view_as(buf.rewards)
        buf.rewards = torch.where(buf.valid, reward, torch.zeros_like(reward))
        return buf.rewards

    def __call__(self, policy, optimizer, collector, last_value, ppo_cfg, gen) -> dict:
        buf = collector.buffer
        obs, act = self.executed(policy, buf)
        valid = buf.valid.flatten()
        stats = train_discriminator(self.disc, self.optimizer, self.expert,
                                    (obs[valid], act[valid]), self.cfg.disc_epochs,
                                    self.cfg.disc_batch, self.cfg.grad_penalty, self.gen)
        stats["gail_reward"] = float(self.relabel(policy, buf)[buf.valid].mean())
        stats.update(ppo.update(policy, optimizer, collector, last_value, ppo_cfg, gen))
        per_update = buf.num_steps * buf.num_envs
        if onpolicy._crossed(collector.steps, per_update, self.cfg.eval_every):
            stats["eval_return"] = self.evaluate(policy)
        return stats


@dataclass
class GAILResult:
    """The trained policy and discriminator, the evaluations (env steps, true return) and
    the per-update log of `onpolicy.run` (discriminator accuracy, losses)."""

    policy: nn.Module
    disc: Discriminator
    eval_steps: list[int]
    eval_returns: list[float]
    log: list[dict]
    seconds: float


def train(cfg: GAILConfig, demos: list[Episode], progress=None, track=None) -> GAILResult:
    """GAIL from `demos` on cfg.ppo.env_id; the env's reward is only used to evaluate.

    Evaluations run on `hubkit.imitation.tasks.reacher_env` with seeds 10_000 + cfg.seed, the
    same episodes as `reference_returns`, at step 0, every cfg.eval_every steps and
    at the end.
    """
    obs, act = transitions(demos)
    norm = Normalizer.fit(obs)
    pcfg = replace(cfg.ppo, total_steps=cfg.total_steps, seed=cfg.seed, eval_every=0)
    envs = HiddenReward(onpolicy.make_train_envs(pcfg))
    eval_env = reacher_env(16, cfg.seed)

    def evaluate(policy) -> float:
        return mean_return(eval_env, deterministic(policy), cfg.eval_episodes, 10_000 + cfg.seed)

    torch.manual_seed(cfg.seed)
    disc = Discriminator(norm, act.shape[1], cfg.disc_hidden)
    space = normalize.action_space(envs)  # the bounds inside ClipAction's (-inf, inf)
    update = GAILUpdate(disc, (obs, act), cfg, (space.low, space.high), evaluate)
    factory = standardized_policy(norm, pcfg.hidden, cfg.init_log_std)
    torch.manual_seed(cfg.seed)
    first = evaluate(factory(envs.single_observation_space, space))  # = run's initial policy
    result = onpolicy.run(pcfg, update, policy_factory=factory, envs=envs, progress=progress,
                          track=track)
    steps = [0] + [row["step"] for row in result.log if "eval_return" in row]
    returns = [first] + [row["eval_return"] for row in result.log if "eval_return" in row]
    if steps[-1] != result.steps:
        steps.append(result.steps)
        returns.append(evaluate(result.policy))
    return GAILResult(result.policy, disc, steps, returns, result.log, result.seconds)


# ------------------------------------------------------------------ the documented run

def reference_returns(demos: list[Episode], seed: int, episodes: int,
                      bc: BCConfig | None = None) -> dict[str, float]:
    """The expert's, BC's (trained on `demos`) and uniform random actions' true returns,
    on the same evaluation episodes as `train`'s."""
    env = reacher_env(16, seed)
    clone = fit_policy(*transitions(demos), replace(bc or BCConfig(), seed=seed))
    rng = np.random.default_rng(seed)
    return {name: mean_return(env, policy, episodes, 10_000 + seed) for name, policy in (
        ("expert", expert_policy), ("bc", clone.act),
        ("random", lambda o: rng.uniform(-1.0, 1.0, (len(o), 2))))}


def load_demos(path: str | None, episodes: int, seed: int) -> list[Episode]:
    """The first `episodes` episodes of the Minari dataset folder `path`
    (<root>/<namespace>/<name-vN>), or that many from the reach controller."""
    if path is None:
        return rollout(reacher_env(16, seed), expert_policy, episodes, seed)
    from hubkit.imitation.demos import load_minari

    folder = Path(path)
    demos = load_minari(f"{folder.parent.name}/{folder.name}", folder.parent.parent)
    if len(demos) < episodes:
        raise ValueError(f"--demos: {path} holds {len(demos)} episodes, "
                         f"--expert-episodes asks for {episodes}")
    return demos[:episodes]


def build_parser():
    from hubkit import runlog

    p = runlog.parser("python -m hubkit.imitation.gail", __doc__, "gail")
    p.add_argument("--steps", type=int, default=GAILConfig.total_steps,
                   help="env steps of GAIL's own rollouts per seed (the budget)")
    p.add_argument("--seeds", type=int, default=2, help="training seeds 0..N-1")
    p.add_argument("--expert-episodes", type=int, default=8,
                   help="expert demonstrations (50 steps each); BC gets the same ones")
    p.add_argument("--demos", default=None, metavar="PATH",
                   help="a Minari dataset folder <root>/<namespace>/<name-vN> to take them "
                        "from (default: collect them from the reach controller)")
    p.add_argument("--reward", choices=REWARDS, default=GAILConfig.reward)
    p.add_argument("--grad-penalty", type=float, default=GAILConfig.grad_penalty)
    p.add_argument("--disc-epochs", type=int, default=GAILConfig.disc_epochs)
    p.add_argument("--eval-every", type=int, default=GAILConfig.eval_every)
    p.add_argument("--eval-episodes", type=int, default=GAILConfig.eval_episodes)
    p.add_argument("--bc-steps", type=int, default=BCConfig.steps,
                   help="gradient steps of the BC reference policy")
    return p


def _config(args, seed: int) -> GAILConfig:
    return GAILConfig(total_steps=args.steps, reward=args.reward, grad_penalty=args.grad_penalty,
                      disc_epochs=args.disc_epochs, eval_every=args.eval_every,
                      eval_episodes=args.eval_episodes, seed=seed)


def run_seed(args, seed: int, bar, track) -> dict:
    """Demonstrations, reference lines and GAIL for one seed; its part of results.json."""
    demos = load_demos(args.demos, args.expert_episodes, seed)
    refs = reference_returns(demos, seed, args.eval_episodes, BCConfig(steps=args.bc_steps))
    track.log(0, **{f"{name}_return": value for name, value in refs.items()})
    res = train(_config(args, seed), demos, progress=bar, track=track)
    bar.log(f"seed {seed}: GAIL {res.eval_returns[-1]:.2f}, expert {refs['expert']:.2f}, "
            f"BC {refs['bc']:.2f}, random {refs['random']:.2f}")
    return {"seed": seed, **{f"{k}_return": v for k, v in refs.items()},
            "eval_steps": res.eval_steps, "gail_return": res.eval_returns,
            "disc_steps": [row["step"] for row in res.log],
            "disc_accuracy": [row["disc_accuracy"] for row in res.log],
            "seconds": res.seconds}


def main(argv: list[str] | None = None) -> None:
    """GAIL on Reacher for each seed; writes return.png, discriminator.png, results.json."""
    from hubkit import runlog

    args = build_parser().parse_args(argv)
    outputs = runlog.Outputs(args.out, args._run_name)
    per_update = reacher_ppo().num_envs * reacher_ppo().num_steps
    total = args.seeds * max(1, args.steps // per_update)
    with runlog.tracker(args, outputs) as track, runlog.quiet_third_party(), \
            runlog.Progress(total, "update", enabled=not args.quiet) as bar:
        track.config({"gail": asdict(_config(args, 0))})
        runs = [run_seed(args, s, bar, track.prefixed(f"seed{s}/")) for s in range(args.seeds)]
    write_results(outputs, args, runs)
    outputs.report()


def write_results(outputs, args, runs: list[dict]) -> None:
    """return.png, discriminator.png and results.json; prints the summary."""
    mean = {k: float(np.mean([r[f"{k}_return"] for r in runs])) for k in ("expert", "bc", "random")}
    final = [r["gail_return"][-1] for r in runs]

    def returns(ax):
        for r in runs:
            ax.plot(r["eval_steps"], r["gail_return"], marker=".", label=f"GAIL seed {r['seed']}",
                    color=f"C{r['seed'] % 10}")
        for (name, style), color in zip((("expert", "--"), ("bc", "-."), ("random", ":")),
                                        ("k", "m", "r"), strict=True):
            label = "BC (same demos)" if name == "bc" else name
            ax.axhline(mean[name], color=color, ls=style, label=f"{label} {mean[name]:.1f}")
        ax.set(xlabel="GAIL env steps", ylabel="true return (never seen by GAIL)",
               title=f"GAIL on Reacher from {args.expert_episodes} expert episodes")

    def accuracy(ax):
        for r in runs:
            ax.plot(r["disc_steps"], _smooth(r["disc_accuracy"]), label=f"seed {r['seed']}")
        ax.axhline(0.5, color="k", ls=":", label="chance")
        ax.set(xlabel="GAIL env steps", ylabel="accuracy on fresh policy pairs",
               title="Discriminator accuracy (moving average of 10 updates)", ylim=(0.3, 1.02))

    _plot(outputs.path("return.png"), returns)
    _plot(outputs.path("discriminator.png"), accuracy)
    summary = {"config": {"gail": asdict(_config(args, 0)), "expert_episodes": args.expert_episodes,
                          "demos": args.demos or "reach controller (bc.expert_policy)",
                          "seeds": args.seeds},
               "mean_returns": {**mean, "gail_final": float(np.mean(final))}, "runs": runs}
    outputs.path("results.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"expert {mean['expert']:.2f}, BC {mean['bc']:.2f}, random {mean['random']:.2f}, "
          f"GAIL after {args.steps} steps {np.mean(final):.2f} (seeds: "
          + ", ".join(f"{x:.2f}" for x in final) + ")")


def _smooth(x: list[float], k: int = 10) -> np.ndarray:
    """Trailing moving average over up to k values (the first values average fewer)."""
    c = np.cumsum(np.insert(np.asarray(x, dtype=np.float64), 0, 0.0))
    n = np.arange(1, len(x) + 1)
    lo = np.maximum(n - k, 0)
    return (c[n] - c[lo]) / (n - lo)


if __name__ == "__main__":
    from hubkit import runlog

    runlog.run_main(main)
