"""Known wrong: the right shape, all zeros."""

import torch


def attention(q, k, v, causal=False):
    return torch.zeros_like(q)


def multi_head_attention(x, w_in, b_in, w_out, b_out, num_heads, causal=False):
    return torch.zeros_like(x)
