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
# # Part 4: Neural network architectures
#
# Convolution (4.1), recurrence (4.2) and attention (4.3), each from hubkit's
# readable references. Exercises: `conv2d_numpy`, `conv2d_cpp`,
# `lstm_cell_numpy`, `rnn_bptt`, `attention_python`, ...

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from hubkit.attention import reference as attention
from hubkit.basics import linalg
from hubkit.cnn import reference as cnn
from hubkit.rnn import reference as rnn

# %% [markdown]
# ## 4.1 A convolution is a sliding dot product
# Two 3x3 edge filters on a photo; the loop-free im2col version equals the
# seven-loop definition.

# %%
img = linalg.sample_image()[::4, ::4]
x = img[None, None]  # (N=1, C=1, H, W)
w = np.array([[[[1, 0, -1], [2, 0, -2], [1, 0, -1]]], [[[1, 2, 1], [0, 0, 0], [-1, -2, -1]]]],
             dtype=np.float64)  # (C_out=2, C_in=1, 3, 3)
y = cnn.conv2d_im2col(x, w, padding=1)
small = x[..., :12, :12]
print("im2col == loops:", np.allclose(cnn.conv2d_im2col(small, w), cnn.conv2d_naive(small, w)))
fig, axes = plt.subplots(1, 3, figsize=(12, 3))
for ax, im, title in zip(axes, [img, y[0, 0], y[0, 1]], ["input", "vertical edges", "horizontal edges"]):
    ax.imshow(im, cmap="gray"); ax.set_title(title); ax.axis("off")
plt.show()

# %% [markdown]
# ## 4.2 An LSTM carries a state through time

# %%
torch.manual_seed(0)
T, B, D, H = 30, 1, 1, 8
xs = torch.sin(torch.linspace(0, 6, T)).reshape(T, B, D)
w_ih, w_hh = torch.randn(4 * H, D) * 0.5, torch.randn(4 * H, H) * 0.5
state = (torch.zeros(B, H), torch.zeros(B, H))
hs = []
for t in range(T):
    state = rnn.lstm_cell(xs[t], state, w_ih, w_hh)
    hs.append(state[0][0])
plt.plot(torch.stack(hs).numpy()); plt.title("LSTM hidden units over a sine input"); plt.show()

# %% [markdown]
# ## 4.3 Attention weights
# softmax(q k^T / sqrt(d)) with a causal mask: each position looks only back.

# %%
q = k = v = torch.randn(1, 1, 10, 16)
out, weights = attention.scaled_dot_product_attention(q, k, v, causal=True, return_weights=True)
plt.imshow(weights[0, 0].numpy(), cmap="viridis"); plt.colorbar()
plt.title("causal attention weights (query x key)"); plt.show()
print(out.shape, torch.allclose(weights.sum(-1), torch.ones(1, 1, 10)))
