"""Incremental decoding with a KV cache for one causal attention layer.

Exercise kv_cache. `full_layer` attends over a whole sequence at once; you write
`cached_layer`, which gets only the newest tokens plus a cache of the keys and
values of the tokens before them, and must give the same outputs as the full pass.
Plain PyTorch: matmuls, softmax, masking, torch.cat.

Shapes: B batch, T new tokens, S cached tokens, C width, H heads, D = C / H.
"""

from __future__ import annotations

import math

import torch


def split_heads(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    """(B, T, C) -> (B, H, T, D)."""
    b, t, c = x.shape
    return x.view(b, t, num_heads, c // num_heads).transpose(1, 2)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """(B, H, T, D) -> (B, T, C)."""
    b, h, t, d = x.shape
    return x.transpose(1, 2).reshape(b, t, h * d)


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
           allowed: torch.Tensor) -> torch.Tensor:
    """softmax(q k^T / sqrt(D), keys where allowed is False removed) v.

    q (B, H, Tq, D), k and v (B, H, Tk, D), allowed (Tq, Tk) bool -> (B, H, Tq, D).
    """
    s = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])  # (B, H, Tq, Tk)
    s = s.masked_fill(~allowed, float("-inf"))
    return torch.softmax(s, dim=-1) @ v


def full_layer(x, wpe, w_qkv, w_out, num_heads):
    """The whole sequence x (B, T, C) at once, causally: -> (B, T, C). Given, for reference."""
    t = x.shape[1]
    q, k, v = (split_heads(p, num_heads) for p in ((x + wpe[:t]) @ w_qkv.T).chunk(3, dim=-1))
    allowed = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
    return merge_heads(attend(q, k, v, allowed)) @ w_out.T


def cached_layer(x_new: torch.Tensor, cache: dict, wpe: torch.Tensor, w_qkv: torch.Tensor,
                 w_out: torch.Tensor, num_heads: int) -> torch.Tensor:
    """The next T tokens x_new (B, T, C), after the S tokens held in `cache`: -> (B, T, C).

    Args:
        x_new: embeddings of the new tokens only (B, T, C).
        cache: {"k": (B, H, S, D) or None, "v": (B, H, S, D) or None}; update it so that
            afterwards it holds the keys and values of all S + T tokens.
        wpe: position embeddings (T_max, C); token j of the whole sequence adds wpe[j].
        w_qkv: (3C, C), w_out: (C, C) as in full_layer; num_heads: H.
    """
    # BEGIN SOLUTION
    s = 0 if cache["k"] is None else cache["k"].shape[2]  # tokens already seen
    t = x_new.shape[1]
    h = x_new + wpe[s:s + t]  # the new tokens sit at positions s .. s + t - 1
    q, k, v = (split_heads(p, num_heads) for p in (h @ w_qkv.T).chunk(3, dim=-1))
    if cache["k"] is not None:
        k = torch.cat([cache["k"], k], dim=2)  # (B, H, S + T, D)
        v = torch.cat([cache["v"], v], dim=2)
    cache["k"], cache["v"] = k, v
    # new query i is token s + i: it sees keys 0 .. s + i (bottom-right aligned)
    allowed = torch.ones(t, s + t, dtype=torch.bool, device=x_new.device).tril(s)
    return merge_heads(attend(q, k, v, allowed)) @ w_out.T
    # END SOLUTION
