"""Known wrong: zeros of the right shapes."""

import torch


def attention_forward(q, k, v, causal=False):
    return torch.zeros_like(q), torch.zeros(q.shape[:3], dtype=torch.float32)
