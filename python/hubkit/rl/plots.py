"""Figures of the policy-gradient runs: REINFORCE's variance comparison and frame strips.

matplotlib (Agg) is imported inside each function; so is mujoco's renderer.
"""

from __future__ import annotations

import numpy as np
import torch


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _aligned(logs: list[list[dict]], key: str) -> tuple[np.ndarray, np.ndarray]:
    """Steps (U,) and values (seeds, U) of `key`, cut to the shortest run."""
    u = min(len(log) for log in logs)
    steps = np.array([row["step"] for row in logs[0][:u]])
    values = np.array([[row.get(key, np.nan) for row in log[:u]] for log in logs], dtype=float)
    return steps, values


def plot_variance(runs: dict[str, list[list[dict]]], path) -> dict:
    """Return curves and gradient variance (mean and range over seeds) per variant.

    Args:
        runs: variant name -> one training log per seed (rows with step,
            train_return, grad_var).
        path: where the PNG goes.

    Returns:
        {"mean_grad_var": {variant: mean over updates and seeds},
         "final_train_return": {variant: [per seed]}, "variance_ratio": no/with baseline}.
    """
    plt = _pyplot()
    fig, (ax_r, ax_v) = plt.subplots(1, 2, figsize=(10, 3.8))
    summary: dict = {"mean_grad_var": {}, "final_train_return": {}}
    for name, logs in runs.items():
        steps, ret = _aligned(logs, "train_return")
        _, var = _aligned(logs, "grad_var")
        for ax, y in ((ax_r, ret), (ax_v, var)):
            line, = ax.plot(steps, np.nanmean(y, axis=0), label=name.replace("_", " "))
            ax.fill_between(steps, np.nanmin(y, axis=0), np.nanmax(y, axis=0),
                            color=line.get_color(), alpha=0.2)
        summary["mean_grad_var"][name] = float(np.nanmean(var))
        summary["final_train_return"][name] = [float(x) for x in ret[:, -1]]
    ax_r.set(xlabel="env steps", ylabel="return (last 100 episodes)", title="CartPole-v1")
    ax_v.set(xlabel="env steps", ylabel="variance of per-env gradients", yscale="log",
             title="policy-gradient variance")
    for ax in (ax_r, ax_v):
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    v = summary["mean_grad_var"]
    if "baseline" in v and "no_baseline" in v:
        summary["variance_ratio"] = v["no_baseline"] / v["baseline"]
    return summary


def load_policy(path):
    """(policy, checkpoint dict) from a policy.pt written by `hubkit.rl.train`."""
    import gymnasium as gym

    import hubkit.envs  # noqa: F401  (registers hubkit/ ids)
    from hubkit.rl.policies import make_policy

    ckpt = torch.load(path, weights_only=False)
    cfg = ckpt["config"]
    env = gym.make(cfg["env_id"])
    policy = make_policy(env.observation_space, env.action_space, tuple(cfg["hidden"]),
                         cfg["tanh_squash"])
    policy.load_state_dict(ckpt["state_dict"])
    env.close()
    return policy, ckpt


def _normalizer(stats: dict | None, clip: float = 10.0):
    if stats is None:
        return lambda obs: obs
    mean, std = np.array(stats["mean"]), np.sqrt(np.array(stats["var"]) + 1e-8)
    return lambda obs: np.clip((obs - mean) / std, -clip, clip)


def frame_strip(policy_path, path, count: int = 8, every: int = 25, seed: int = 0) -> dict:
    """Run the saved policy deterministically with render_mode="rgb_array"; tile frames.

    Returns {"return", "length"} of the episode (up to count * every steps).
    """
    import gymnasium as gym

    policy, ckpt = load_policy(policy_path)
    env = gym.make(ckpt["config"]["env_id"], render_mode="rgb_array", width=240, height=240)
    norm = _normalizer(ckpt["obs_stats"])
    obs, _ = env.reset(seed=seed)
    shots, total, t = [], 0.0, 0
    for t in range(count * every):
        if t % every == 0:
            shots.append(env.render())
        x = torch.as_tensor(norm(obs), dtype=torch.float32)[None]
        action, _, _ = policy.act(x, deterministic=True)
        obs, reward, term, trunc, _ = env.step(policy.env_action(action)[0])
        total += float(reward)
        if term or trunc:
            break
    env.close()
    _pyplot().imsave(path, np.concatenate(shots, axis=1))
    return {"return": total, "length": t + 1}
