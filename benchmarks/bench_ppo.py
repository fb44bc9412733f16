"""PPO end to end on HalfCheetah-v5: env steps per second, hubkit vs stable-baselines3.

Both train the same PPO for ITERS rollouts of 8 envs x 256 steps (2048 env steps
each): 10 epochs of 32 minibatches of 64, Adam lr 3e-4, gamma 0.99, GAE lambda
0.95, clip 0.2, no value clipping, advantages normalized per minibatch, no
entropy bonus, gradient norm clipped to 0.5, separate actor and critic MLPs
64-64 with tanh and orthogonal init, state-independent log-std starting at 0,
no observation or reward normalization, torch on 1 thread.
    hubkit  hubkit.rl.ppo on hubkit's C++ vector env ("hubkit/HalfCheetah-v5",
            1 env thread)
    sb3     stable_baselines3.PPO on its DummyVecEnv over Gymnasium's own
            HalfCheetah-v5 (make_vec_env; one Python process)
A timed call is a whole training run (setup included), so time / (ITERS * 2048)
is what an env step costs end to end: stepping, acting, GAE and the updates.

Run: pytest benchmarks/bench_ppo.py --benchmark-json benchmarks/results/ppo-cpu-DATE.json
Then: python -m benchmarks.bench_ppo benchmarks/results/ppo-cpu-DATE.json  (steps/s, ratio;
goal: hubkit >= 2x sb3)
"""

from __future__ import annotations

import json
import sys

import pytest
import torch

from benchmarks.conftest import record

ITERS, NUM_ENVS, NUM_STEPS = 2, 8, 256
STEPS = ITERS * NUM_ENVS * NUM_STEPS


def train_hubkit():
    from hubkit.rl import ppo

    cfg = ppo.PPOConfig(env_id="hubkit/HalfCheetah-v5", num_envs=NUM_ENVS, num_steps=NUM_STEPS,
                        total_steps=STEPS, lr=3e-4, anneal_lr=False, update_epochs=10,
                        num_minibatches=32, ent_coef=0.0, clip_vloss=False, eval_every=0,
                        threads=1, env_threads=1, hidden=(64, 64))
    assert ppo.train(cfg).steps == STEPS


def train_sb3():
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    env = make_vec_env("HalfCheetah-v5", n_envs=NUM_ENVS, seed=0)
    model = PPO("MlpPolicy", env, n_steps=NUM_STEPS, batch_size=64, n_epochs=10,
                learning_rate=3e-4, gamma=0.99, gae_lambda=0.95, clip_range=0.2, ent_coef=0.0,
                vf_coef=0.5, max_grad_norm=0.5, seed=0, device="cpu",
                policy_kwargs={"net_arch": {"pi": [64, 64], "vf": [64, 64]},
                               "activation_fn": torch.nn.Tanh})
    model.learn(STEPS)
    env.close()


PROVIDERS = {
    "hubkit": (train_hubkit, "hubkit.rl.ppo.train on hubkit.envs.vector.MujocoVectorEnv"),
    "sb3": (train_sb3, "stable_baselines3.PPO on DummyVecEnv(gymnasium HalfCheetah-v5)"),
}


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_ppo_halfcheetah(benchmark, provider):
    pytest.importorskip("mujoco")
    if provider == "sb3":
        pytest.importorskip("stable_baselines3")
    fn, ran = PROVIDERS[provider]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        record(benchmark, op="ppo", provider=provider, shape=f"HalfCheetah-v5 {NUM_ENVS} envs",
               ran=ran, env_steps=STEPS, torch_threads=1)
        benchmark.pedantic(fn, rounds=3, iterations=1, warmup_rounds=0)
    finally:
        torch.set_num_threads(threads)


def steps_per_second(path: str) -> list[str]:
    """Env steps/s of each provider (median run) and hubkit's ratio to sb3."""
    rates = {b["extra_info"]["provider"]: b["extra_info"]["env_steps"] / b["stats"]["median"]
             for b in json.load(open(path))["benchmarks"]}
    lines = [f"{p}: {r:.0f} env steps/s" for p, r in rates.items()]
    if {"hubkit", "sb3"} <= rates.keys():
        lines.append(f"hubkit / sb3: {rates['hubkit'] / rates['sb3']:.2f}x")
    return lines


if __name__ == "__main__":
    print("\n".join(steps_per_second(sys.argv[1])))
