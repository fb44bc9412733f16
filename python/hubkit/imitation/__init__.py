"""Imitation learning and inverse RL: learning from what an expert did.

Modules: `demos` (collect expert episodes on hubkit's vector envs, Minari's
dataset format, normalization and frame stacking), `bc` (behavioral cloning
and DAgger on Reacher, HalfCheetah and Hopper, with the distribution-shift
studies), `tasks` (each env with its expert), `maxent_irl`
(maximum-entropy inverse RL on a gridworld, with the recovered reward drawn as
a heatmap), `gail` (adversarial imitation on Reacher: PPO on a discriminator's
reward).
"""
