"""Known wrong: calls torch's own scaled_dot_product_attention."""

import torch.nn.functional as F


def attention(q, k, v, causal=False):
    return F.scaled_dot_product_attention(q, k, v, is_causal=causal)


def multi_head_attention(x, w_in, b_in, w_out, b_out, num_heads, causal=False):
    b, t, c = x.shape
    q, k, v = (x @ w_in.T + b_in).split(c, dim=-1)
    q, k, v = (y.reshape(b, t, num_heads, c // num_heads).transpose(1, 2) for y in (q, k, v))
    out = attention(q, k, v, causal).transpose(1, 2).reshape(b, t, c)
    return out @ w_out.T + b_out
