"""torch.nn-compatible attention layers on `hubkit::attention`.

`MultiheadAttention`, `TransformerEncoderLayer`, `TransformerDecoderLayer` and
`Transformer` have the constructor arguments, forward signatures and state_dict
keys of their torch.nn namesakes with batch_first=True, so a torch checkpoint
loads as is. Attention runs through the fused op whenever it can: no attention
weights asked for, no padding or arbitrary mask (causal is fine), no dropout
in training. Otherwise the explicit path from `hubkit.attention.reference`
runs, since the fused kernel has no mask input; `MultiheadAttention.fused_path`
says which one a call takes.

Shapes: B batch, T time (Tq, Tk), C = embed_dim, H heads, D = C / H.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from hubkit.attention import reference
from hubkit.attention.ops import attention


class MultiheadAttention(nn.Module):
    """Multi-head attention, a drop-in for torch.nn.MultiheadAttention(batch_first=True).

    Args:
        embed_dim: C.
        num_heads: H; C must divide by H.
        dropout: dropout on the attention weights (training only).
        bias: learn in_proj_bias and out_proj.bias.
        add_bias_kv, add_zero_attn, kdim, vdim: torch's positions; only the defaults
            (and kdim = vdim = embed_dim) are supported.
        batch_first: inputs are (B, T, C) when True, (T, B, C) when False.
        backend: hubkit op backend for the fused path (None picks by device).
        rope: rotate q and k by position (RoPE) before attending; not in torch.nn.

    Example:
        >>> import torch
        >>> mha = MultiheadAttention(8, 2)
        >>> x = torch.randn(3, 5, 8)
        >>> out, w = mha(x, x, x)
        >>> out.shape, w.shape
        (torch.Size([3, 5, 8]), torch.Size([3, 5, 5]))
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = True, device=None, dtype=None, *,
                 backend: str | None = None, rope: bool = False) -> None:
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(f"num_heads: embed_dim={embed_dim} must be a positive multiple of "
                             f"num_heads={num_heads}")
        for name, value in (("add_bias_kv", add_bias_kv), ("add_zero_attn", add_zero_attn)):
            if value:
                raise ValueError(f"{name}: not supported by hubkit.nn.MultiheadAttention")
        for name, value in (("kdim", kdim), ("vdim", vdim)):
            if value not in (None, embed_dim):
                raise ValueError(f"{name}: must equal embed_dim={embed_dim} (separate key/value "
                                 "widths are not supported)")
        kw = {"device": device, "dtype": dtype}
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        self.dropout, self.batch_first, self.backend = dropout, batch_first, backend
        self.rope = rope
        if rope and self.head_dim % 2:
            raise ValueError(f"rope: needs an even head dim, got {self.head_dim}")
        self.in_proj_weight = nn.Parameter(torch.empty(3 * embed_dim, embed_dim, **kw))
        self.in_proj_bias = nn.Parameter(torch.empty(3 * embed_dim, **kw)) if bias else None
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias, **kw)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        nn.init.xavier_uniform_(self.in_proj_weight)  # torch's initialisation
        if self.in_proj_bias is not None:
            nn.init.zeros_(self.in_proj_bias)
            nn.init.zeros_(self.out_proj.bias)

    def fused_path(self, need_weights: bool, attn_mask=None, key_padding_mask=None) -> bool:
        """True when a call with these arguments runs the fused hubkit::attention op."""
        dropping = self.training and self.dropout > 0
        return not (need_weights or attn_mask is not None or key_padding_mask is not None
                    or dropping)

    def _project(self, x: torch.Tensor, i: int) -> torch.Tensor:
        c = self.embed_dim
        b = None if self.in_proj_bias is None else self.in_proj_bias[i * c:(i + 1) * c]
        return reference.split_heads(F.linear(x, self.in_proj_weight[i * c:(i + 1) * c], b),
                                     self.num_heads)  # (B, H, T, D)

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True,
                attn_mask=None, average_attn_weights: bool = True, is_causal: bool = False):
        """Attend from query to key/value.

        Args:
            query: (B, Tq, C); key, value: (B, Tk, C) ((T, B, C) if not batch_first).
            key_padding_mask: (B, Tk) bool, True at padding (or additive float).
            need_weights: also return attention weights.
            attn_mask: (Tq, Tk) or (B*H, Tq, Tk) bool (True = blocked) or additive float.
            average_attn_weights: average the weights over heads.
            is_causal: block future keys (used alone, or as a hint with attn_mask).

        Returns:
            (B, Tq, C) output; weights (B, Tq, Tk), (B, H, Tq, Tk) or None.
        """
        if not self.batch_first:
            query, key, value = (x.transpose(0, 1) for x in (query, key, value))
        q, k, v = self._project(query, 0), self._project(key, 1), self._project(value, 2)
        if self.rope:
            q, k = reference.rope(q), reference.rope(k)  # (B, H, T, D), rotated by position
        if is_causal and attn_mask is not None:
            attn_mask = None  # the hint says attn_mask is the causal mask
        if self.fused_path(need_weights, attn_mask, key_padding_mask):
            out, w = attention(q, k, v, causal=is_causal, backend=self.backend), None
        else:
            out, w = self._explicit(q, k, v, key_padding_mask, attn_mask, is_causal)
            if w is not None and average_attn_weights:
                w = w.mean(1)
        out = self.out_proj(reference.merge_heads(out))  # (B, Tq, C)
        if not self.batch_first:
            out = out.transpose(0, 1)
        return out, (w if need_weights else None)

    def _explicit(self, q, k, v, key_padding_mask, attn_mask, is_causal):
        """softmax(q k^T / sqrt(D) + masks) v, materialised; also the (B, H, Tq, Tk) weights."""
        b, h, tq, tk = q.shape[0], self.num_heads, q.shape[2], k.shape[2]
        if attn_mask is not None and attn_mask.dim() == 3:
            attn_mask = attn_mask.view(b, h, tq, tk)
        if key_padding_mask is not None and key_padding_mask.dtype != torch.bool:
            kpm = key_padding_mask.view(b, 1, 1, tk)
            attn_mask = kpm if attn_mask is None else _as_float(attn_mask, q.dtype) + kpm
            key_padding_mask = None
        mask = reference.combine_masks(b, tq, tk, attn_mask, key_padding_mask)
        w = reference.softmax(reference.attention_scores(q, k, mask=mask, causal=is_causal))
        w_drop = F.dropout(w, self.dropout, self.training)
        return reference.attention_pool(w_drop, v), w


def _as_float(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    if mask.dtype != torch.bool:
        return mask
    return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(mask, float("-inf"))


def _activation(name: str | Callable) -> Callable:
    if callable(name):
        return name
    if name not in ("relu", "gelu"):
        raise ValueError(f"activation: expected 'relu', 'gelu' or a callable, got {name!r}")
    return F.relu if name == "relu" else F.gelu


class _Block(nn.Module):
    """Shared pieces of the encoder and decoder layers: MLP, norms, residual wiring."""

    def _init_mlp(self, d_model, dim_feedforward, dropout, activation, eps, norms, bias, kw):
        self.linear1 = nn.Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(dim_feedforward, d_model, bias=bias, **kw)
        for i in range(1, norms + 1):
            setattr(self, f"norm{i}", nn.LayerNorm(d_model, eps=eps, bias=bias, **kw))
            setattr(self, f"dropout{i}", nn.Dropout(dropout))
        self.activation = _activation(activation)

    def _ff(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear2(self.dropout(self.activation(self.linear1(x))))

    def _residual(self, x, sublayer: Callable, i: int) -> torch.Tensor:
        norm, drop = getattr(self, f"norm{i}"), getattr(self, f"dropout{i}")
        return reference.residual(x, lambda y: drop(sublayer(y)), norm, self.norm_first)


class TransformerEncoderLayer(_Block):
    """Self-attention + MLP, a drop-in for torch.nn.TransformerEncoderLayer(batch_first=True).

    Args:
        d_model: C; nhead: H; dim_feedforward: MLP width; dropout: residual/MLP dropout.
        activation: "relu", "gelu" or a callable; norm_first: pre-norm when True.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Callable = "relu",
                 layer_norm_eps: float = 1e-5, batch_first: bool = True, norm_first: bool = False,
                 bias: bool = True, *, backend: str | None = None, rope: bool = False,
                 device=None, dtype=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(d_model, nhead, dropout, bias, batch_first=batch_first,
                                            backend=backend, rope=rope, **kw)
        self.norm_first, self.batch_first = norm_first, batch_first
        self._init_mlp(d_model, dim_feedforward, dropout, activation, layer_norm_eps, 2, bias, kw)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal: bool = False):
        """src: (B, T, C) -> (B, T, C)."""
        def attn(y):
            return self.self_attn(y, y, y, key_padding_mask=src_key_padding_mask,
                                  attn_mask=src_mask, is_causal=is_causal, need_weights=False)[0]

        x = self._residual(src, attn, 1)
        return self._residual(x, self._ff, 2)


class TransformerDecoderLayer(_Block):
    """Self-attention, cross-attention, MLP: a drop-in for torch.nn.TransformerDecoderLayer."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Callable = "relu",
                 layer_norm_eps: float = 1e-5, batch_first: bool = True, norm_first: bool = False,
                 bias: bool = True, *, backend: str | None = None, rope: bool = False,
                 device=None, dtype=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(d_model, nhead, dropout, bias, batch_first=batch_first,
                                            backend=backend, rope=rope, **kw)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout, bias,
                                                 batch_first=batch_first, backend=backend, **kw)
        self.norm_first, self.batch_first = norm_first, batch_first
        self._init_mlp(d_model, dim_feedforward, dropout, activation, layer_norm_eps, 3, bias, kw)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal: bool = False,
                memory_is_causal: bool = False):
        """tgt: (B, Tq, C), memory: (B, Tk, C) -> (B, Tq, C)."""
        def self_attn(y):
            return self.self_attn(y, y, y, key_padding_mask=tgt_key_padding_mask,
                                  attn_mask=tgt_mask, is_causal=tgt_is_causal,
                                  need_weights=False)[0]

        def cross_attn(y):
            return self.multihead_attn(y, memory, memory, key_padding_mask=memory_key_padding_mask,
                                       attn_mask=memory_mask, is_causal=memory_is_causal,
                                       need_weights=False)[0]

        x = self._residual(tgt, self_attn, 1)
        x = self._residual(x, cross_attn, 2)
        return self._residual(x, self._ff, 3)


class _Stack(nn.Module):
    def __init__(self, layer: nn.Module, n: int, norm: nn.Module) -> None:
        super().__init__()
        self.layers = nn.ModuleList(copy.deepcopy(layer) for _ in range(n))
        self.norm = norm


class Transformer(nn.Module):
    """Encoder-decoder Transformer, a drop-in for torch.nn.Transformer(batch_first=True).

    Same state_dict keys (encoder.layers.i.*, encoder.norm, decoder.layers.i.*,
    decoder.norm). Inputs are already embedded: src (B, Ts, C), tgt (B, Tt, C).
    `rope=True` (not in torch.nn) rotates q and k in every self-attention.
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable = "relu", layer_norm_eps: float = 1e-5,
                 batch_first: bool = True, norm_first: bool = False, bias: bool = True, *,
                 backend: str | None = None, rope: bool = False, device=None,
                 dtype=None) -> None:
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        args = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                batch_first, norm_first, bias)
        self.encoder = _Stack(TransformerEncoderLayer(*args, backend=backend, rope=rope, **kw),
                              num_encoder_layers, nn.LayerNorm(d_model, layer_norm_eps, **kw))
        self.decoder = _Stack(TransformerDecoderLayer(*args, backend=backend, rope=rope, **kw),
                              num_decoder_layers, nn.LayerNorm(d_model, layer_norm_eps, **kw))
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first
        for p in self.parameters():  # torch.nn.Transformer's initialisation
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def encode(self, src, src_mask=None, src_key_padding_mask=None,
               src_is_causal: bool = False) -> torch.Tensor:
        """src (B, Ts, C) -> memory (B, Ts, C)."""
        x = src
        for layer in self.encoder.layers:
            x = layer(x, src_mask, src_key_padding_mask, src_is_causal)
        return self.encoder.norm(x)

    def decode(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
               memory_key_padding_mask=None, tgt_is_causal: bool = False) -> torch.Tensor:
        """tgt (B, Tt, C), memory (B, Ts, C) -> (B, Tt, C)."""
        x = tgt
        for layer in self.decoder.layers:
            x = layer(x, memory, tgt_mask, memory_mask, tgt_key_padding_mask,
                      memory_key_padding_mask, tgt_is_causal)
        return self.decoder.norm(x)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal: bool = False) -> torch.Tensor:
        """src (B, Ts, C), tgt (B, Tt, C) -> (B, Tt, C); pass tgt_is_causal=True to decode."""
        memory = self.encode(src, src_mask, src_key_padding_mask, bool(src_is_causal))
        return self.decode(tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask,
                           memory_key_padding_mask, bool(tgt_is_causal))

    @staticmethod
    def generate_square_subsequent_mask(t: int, device=None, dtype=None) -> torch.Tensor:
        """(T, T) float mask: 0 on and below the diagonal, -inf above (torch's causal mask)."""
        m = torch.full((t, t), float("-inf"), device=device, dtype=dtype or torch.float32)
        return torch.triu(m, diagonal=1)
