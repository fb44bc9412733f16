# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Part 7: Robotics and embodied AI
#
# A MuJoCo Reacher arm driven by a hand-written controller (7.1), then
# behavioral cloning of that controller (7.2). hubkit's vectorized MuJoCo
# environments, domain randomization (7.3) and the DAgger study live in
# `hubkit.envs` and `hubkit.imitation` (`python -m hubkit.imitation.bc --help`).
# Exercise: `vector_rollout_cpp`.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from hubkit.envs import controllers
from hubkit.imitation import bc

# %% [markdown]
# ## A reaching controller
# Jacobian-transpose torques pull each fingertip toward its target.

# %%
paths, targets = controllers.reacher_paths(num_envs=4, steps=40)
for i in range(paths.shape[1]):
    line, = plt.plot(paths[:, i, 0], paths[:, i, 1])
    plt.scatter(*targets[i], marker="x", s=80, color=line.get_color())
plt.gca().set_aspect("equal"); plt.title("fingertip paths (x: targets)"); plt.show()

# %% [markdown]
# ## Behavioral cloning: regress the expert's actions
# Observations from the controller's own trajectories, labelled by the expert;
# a small MLP learns to imitate it with a plain regression loss.

# %%
rng = np.random.default_rng(0)
obs = rng.uniform(-1, 1, (2000, 10)).astype(np.float32)
actions = bc.expert_policy(obs).astype(np.float32)
net = torch.nn.Sequential(torch.nn.Linear(10, 64), torch.nn.Tanh(), torch.nn.Linear(64, 2))
opt = torch.optim.Adam(net.parameters(), lr=3e-3)
o, a = torch.from_numpy(obs), torch.from_numpy(actions)
losses = []
for _ in range(300):
    loss = ((net(o) - a) ** 2).mean()
    opt.zero_grad(); loss.backward(); opt.step()
    losses.append(loss.item())
plt.semilogy(losses); plt.title("behavioral cloning loss"); plt.xlabel("step"); plt.show()
