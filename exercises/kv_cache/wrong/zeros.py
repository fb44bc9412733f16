"""Known wrong: returns zeros of the right shape."""

from __future__ import annotations

import torch


def cached_layer(x_new, cache, wpe, w_qkv, w_out, num_heads):
    return torch.zeros_like(x_new)
