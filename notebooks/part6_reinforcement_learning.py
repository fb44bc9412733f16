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
# # Part 6: Reinforcement learning
#
# Dynamic programming on a known MDP (6.1) and tabular Q-learning (6.2) from
# `hubkit.rl`; DQN, REINFORCE, A2C and PPO live beside them
# (`python -m hubkit.rl.train --help`). Exercises: `value_iteration`,
# `q_learning`, `prioritized_replay_cpp`, ...

# %%
import matplotlib.pyplot as plt
import numpy as np

from hubkit.rl import mdp

# %% [markdown]
# ## Value iteration on a slippery grid world
# `#` is a wall, `H` a hole (-1), `G` the goal (+1). Each cell's value is the
# discounted return of acting greedily from there.

# %%
grid = ["S...", ".#.H", "...G"]
world = mdp.gridworld(grid, slip=0.1, gamma=0.95)
V, policy = mdp.value_iteration(world)
print(mdp.render_policy(world, policy))
plt.imshow(V.reshape(world.shape), cmap="viridis"); plt.colorbar()
plt.title("state values V(s)"); plt.show()

# %% [markdown]
# ## Q-learning without a model
# The same grid, learned from sampled transitions with an epsilon-greedy policy:
# Q(s, a) += lr (r + gamma max Q(s') - Q(s, a)).

# %%
rng = np.random.default_rng(0)
Q = np.zeros((world.n_states, world.n_actions))
start = 0
returns = []
for episode in range(1500):
    s, total, eps = start, 0.0, max(0.05, 1 - episode / 750)
    for _ in range(50):
        a = rng.integers(world.n_actions) if rng.random() < eps else int(Q[s].argmax())
        s_next = rng.choice(world.n_states, p=world.P[s, a])
        r = world.R[s, a]
        target = r + (0.0 if world.terminal[s_next] else world.gamma * Q[s_next].max())
        Q[s, a] += 0.1 * (target - Q[s, a])
        s, total = s_next, total + r
        if world.terminal[s]:
            break
    returns.append(total)
plt.plot(np.convolve(returns, np.ones(50) / 50, mode="valid"))
plt.title("Q-learning: return per episode (moving average)"); plt.show()
print("greedy actions agree with value iteration on",
      int((Q.argmax(1) == policy.argmax(1))[~world.terminal].mean() * 100), "% of cells")
