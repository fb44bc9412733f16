"""KV-cache decoding, readable: one causal attention layer, full and incremental.

The spec of exercise `kv_cache`. A layer with learned positions: h = x + wpe[pos],
then causal multi-head self-attention (no biases). `causal_layer` runs a whole
sequence at once; `cached_layer` runs it a chunk at a time, keeping the keys and
values of earlier tokens in a cache, and must give the same outputs. Three things
make them equal (each is a classic bug when missed):

1. positions continue: the new tokens sit at S, S + 1, ... where S = tokens cached;
2. the cache grows: new keys and values are appended before attending;
3. the mask is aligned bottom-right: new query i (position S + i) sees keys
   0 .. S + i, so one new token sees every key and no mask is needed at all.

Shapes: B batch, T tokens, S cached tokens, C width, H heads, D = C / H.

Example:
    >>> g = torch.Generator().manual_seed(0)
    >>> x, wpe = torch.randn(2, 6, 8, generator=g), torch.randn(10, 8, generator=g)
    >>> w_qkv, w_out = torch.randn(24, 8, generator=g), torch.randn(8, 8, generator=g)
    >>> full = causal_layer(x, wpe, w_qkv, w_out, 2)
    >>> cache = {"k": None, "v": None}
    >>> prompt = cached_layer(x[:, :3], cache, wpe, w_qkv, w_out, 2)  # 3 tokens at once
    >>> steps = [cached_layer(x[:, i:i + 1], cache, wpe, w_qkv, w_out, 2) for i in range(3, 6)]
    >>> torch.allclose(full, torch.cat([prompt, *steps], dim=1), atol=1e-5)
    True
"""

from __future__ import annotations

import torch

from hubkit.attention import reference as R


def _qkv(h: torch.Tensor, w_qkv: torch.Tensor, num_heads: int):
    """h (B, T, C) -> q, k, v, each (B, H, T, D)."""
    q, k, v = (h @ w_qkv.T).split(h.shape[-1], dim=-1)  # (B, T, C) each
    return tuple(R.split_heads(t, num_heads) for t in (q, k, v))


def causal_layer(x: torch.Tensor, wpe: torch.Tensor, w_qkv: torch.Tensor, w_out: torch.Tensor,
                 num_heads: int) -> torch.Tensor:
    """The whole sequence at once: x (B, T, C) -> (B, T, C).

    Args:
        x: token embeddings (B, T, C).
        wpe: position embeddings (T_max, C), T_max >= T.
        w_qkv: (3C, C) query, key and value projections stacked.
        w_out: (C, C) output projection.
        num_heads: H, divides C.
    """
    q, k, v = _qkv(x + wpe[:x.shape[1]], w_qkv, num_heads)  # (B, H, T, D)
    out = R.scaled_dot_product_attention(q, k, v, causal=True)  # (B, H, T, D)
    return R.merge_heads(out) @ w_out.T


def cached_layer(x_new: torch.Tensor, cache: dict, wpe: torch.Tensor, w_qkv: torch.Tensor,
                 w_out: torch.Tensor, num_heads: int) -> torch.Tensor:
    """The next chunk only: x_new (B, T, C) after the S tokens in `cache` -> (B, T, C).

    cache: {"k": (B, H, S, D) or None, "v": likewise}; updated in place to S + T.
    """
    s, t = (0 if cache["k"] is None else cache["k"].shape[2]), x_new.shape[1]
    q, k, v = _qkv(x_new + wpe[s:s + t], w_qkv, num_heads)  # positions S .. S + T - 1
    if cache["k"] is not None:
        k, v = torch.cat([cache["k"], k], dim=2), torch.cat([cache["v"], v], dim=2)
    cache["k"], cache["v"] = k, v  # (B, H, S + T, D)
    allowed = torch.ones(t, s + t, dtype=torch.bool, device=x_new.device).tril(s)
    out = R.scaled_dot_product_attention(q, k, v, mask=allowed)  # (B, H, T, D)
    return R.merge_heads(out) @ w_out.T
