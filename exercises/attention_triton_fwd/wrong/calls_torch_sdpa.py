"""Known wrong: calls torch's own attention and logsumexp instead of a kernel."""

import math

import torch
import torch.nn.functional as F


def attention_forward(q, k, v, causal=False):
    s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if causal:
        s = s.masked_fill(torch.ones_like(s, dtype=torch.bool).triu(1), float("-inf"))
    return F.scaled_dot_product_attention(q, k, v, is_causal=causal), torch.logsumexp(s, -1)
