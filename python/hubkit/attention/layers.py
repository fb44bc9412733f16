"""torch.nn-compatible Transformer layers on `hubkit::attention`.

`TransformerEncoderLayer`, `TransformerDecoderLayer`, `TransformerEncoder`,
`TransformerDecoder` and `Transformer` take their torch.nn namesakes' constructor
arguments and defaults (batch_first=False, dropout=0.1, activation relu, given as
a string or a callable), accept every input form torch documents and have the same
state_dict keys. Their attention is `hubkit.attention.mha.MultiheadAttention`
(re-exported here), whose docstring says which path runs when.

Shapes: N batch, L target length, S source length, E = d_model.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from hubkit.attention import reference
from hubkit.attention.mha import MultiheadAttention, _op_backend  # noqa: F401 - re-exported


def _activation(activation: str | Callable) -> Callable:
    if callable(activation):
        return activation
    if activation not in ("relu", "gelu"):
        raise ValueError(f"activation: expected 'relu', 'gelu' or a callable, got {activation!r}")
    return F.relu if activation == "relu" else F.gelu


class _Block(nn.Module):
    """What the encoder and decoder layers share: attention blocks, MLP, norms, residuals."""

    def _init_block(self, d_model, nhead, dim_feedforward, dropout, activation, eps, batch_first,
                    norm_first, bias, attn_names, kw, backend, rope) -> None:
        for i, name in enumerate(attn_names):  # rope: in the self-attention only
            setattr(self, name, MultiheadAttention(d_model, nhead, dropout, bias,
                                                   batch_first=batch_first, **kw, backend=backend,
                                                   rope=rope and i == 0))
        self.linear1 = nn.Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        for i in range(1, len(attn_names) + 2):
            setattr(self, f"norm{i}", nn.LayerNorm(d_model, eps=eps, bias=bias, **kw))
            setattr(self, f"dropout{i}", nn.Dropout(dropout))
        self.activation = _activation(activation)

    def _ff(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear2(self.dropout(self.activation(self.linear1(x))))

    def _residual(self, x: torch.Tensor, sublayer: Callable, i: int) -> torch.Tensor:
        """Sub-layer i (1-based) with its norm and dropout, pre- or post-norm."""
        norm, drop = getattr(self, f"norm{i}"), getattr(self, f"dropout{i}")
        return reference.residual(x, lambda y: drop(sublayer(y)), norm, self.norm_first)


class TransformerEncoderLayer(_Block):
    """Self-attention + MLP, a drop-in for torch.nn.TransformerEncoderLayer.

    Args:
        d_model: E; nhead: H; dim_feedforward: MLP width; dropout: every dropout.
        activation: "relu", "gelu" or a callable (module or function).
        layer_norm_eps: LayerNorm eps; batch_first: (N, T, E) inputs when True.
        norm_first: pre-norm when True; bias: biases in linears and LayerNorms.
        backend, rope: hubkit extras passed to the attention (not in torch).
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Callable = F.relu,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False, norm_first: bool = False,
                 bias: bool = True, device=None, dtype=None, *, backend: str | None = None,
                 rope: bool = False) -> None:
        super().__init__()
        self._init_block(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                         batch_first, norm_first, bias, ("self_attn",),
                         {"device": device, "dtype": dtype}, backend, rope)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal: bool = False):
        """src: (T, N, E), (N, T, E) if batch_first, or (T, E) -> same shape."""
        def attn(y):
            return self.self_attn(y, y, y, key_padding_mask=src_key_padding_mask,
                                  attn_mask=src_mask, is_causal=is_causal, need_weights=False)[0]

        return self._residual(self._residual(src, attn, 1), self._ff, 2)


class TransformerDecoderLayer(_Block):
    """Self-attention, cross-attention, MLP: a drop-in for torch.nn.TransformerDecoderLayer.

    Arguments as `TransformerEncoderLayer`; `rope` applies to the self-attention only.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Callable = F.relu,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False, norm_first: bool = False,
                 bias: bool = True, device=None, dtype=None, *, backend: str | None = None,
                 rope: bool = False) -> None:
        super().__init__()
        self._init_block(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                         batch_first, norm_first, bias, ("self_attn", "multihead_attn"),
                         {"device": device, "dtype": dtype}, backend, rope)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal: bool = False,
                memory_is_causal: bool = False):
        """tgt: (T, N, E) or (N, T, E) or (T, E); memory likewise with its own length."""
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


# ---------------------------------------------------------------- stacks


def _seq_len(x: torch.Tensor, batch_first: bool) -> int:
    return x.shape[0] if x.dim() == 2 else x.shape[1 if batch_first else 0]


def _detect_is_causal(mask, is_causal: bool | None, size: int) -> bool:
    """torch's rule: is_causal=None means "True if mask is exactly the causal mask"."""
    if is_causal is not None or mask is None:
        return bool(is_causal)
    causal = Transformer.generate_square_subsequent_mask(size, mask.device, mask.dtype)
    return mask.shape == causal.shape and bool((mask == causal).all())


class TransformerEncoder(nn.Module):
    """num_layers copies of an encoder layer, then an optional norm: torch.nn.TransformerEncoder.

    enable_nested_tensor and mask_check are accepted and stored; hubkit has no
    nested-tensor fast path, so padded positions keep their (meaningless) values
    where torch's inference fast path would write zeros.
    """

    def __init__(self, encoder_layer: nn.Module, num_layers: int, norm: nn.Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True) -> None:
        super().__init__()
        self.layers = nn.ModuleList(copy.deepcopy(encoder_layer) for _ in range(num_layers))
        self.num_layers, self.norm = num_layers, norm
        self.enable_nested_tensor, self.mask_check = enable_nested_tensor, mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None,
                is_causal: bool | None = None) -> torch.Tensor:
        """src: (T, N, E), (N, T, E) if batch_first, or (T, E) -> same shape."""
        batch_first = self.layers[0].self_attn.batch_first
        is_causal = _detect_is_causal(mask, is_causal, _seq_len(src, batch_first))
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                      is_causal=is_causal)
        return x if self.norm is None else self.norm(x)


class TransformerDecoder(nn.Module):
    """num_layers copies of a decoder layer, then an optional norm: torch.nn.TransformerDecoder."""

    def __init__(self, decoder_layer: nn.Module, num_layers: int,
                 norm: nn.Module | None = None) -> None:
        super().__init__()
        self.layers = nn.ModuleList(copy.deepcopy(decoder_layer) for _ in range(num_layers))
        self.num_layers, self.norm = num_layers, norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> torch.Tensor:
        """tgt: (T, N, E), (N, T, E) if batch_first, or (T, E); memory likewise."""
        batch_first = self.layers[0].self_attn.batch_first
        tgt_is_causal = _detect_is_causal(tgt_mask, tgt_is_causal, _seq_len(tgt, batch_first))
        x = tgt
        for layer in self.layers:
            x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                      tgt_key_padding_mask=tgt_key_padding_mask,
                      memory_key_padding_mask=memory_key_padding_mask,
                      tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        return x if self.norm is None else self.norm(x)


class Transformer(nn.Module):
    """Encoder-decoder Transformer, a drop-in for torch.nn.Transformer.

    Same arguments (custom_encoder / custom_decoder included) and state_dict keys
    (encoder.layers.i.*, encoder.norm, decoder.layers.i.*, decoder.norm). Inputs are
    already embedded: src (S, N, E), tgt (T, N, E), batch first when batch_first.
    `backend` and `rope` (not in torch) go to every attention; rope to self-attention only.
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable = F.relu, custom_encoder: Any | None = None,
                 custom_decoder: Any | None = None, layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device=None, dtype=None, *, backend: str | None = None,
                 rope: bool = False) -> None:
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        args = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                batch_first, norm_first, bias, device, dtype)
        extra = {"backend": backend, "rope": rope}
        if custom_encoder is None:
            custom_encoder = TransformerEncoder(
                TransformerEncoderLayer(*args, **extra), num_encoder_layers,
                nn.LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        if custom_decoder is None:
            custom_decoder = TransformerDecoder(
                TransformerDecoderLayer(*args, **extra), num_decoder_layers,
                nn.LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        self.encoder, self.decoder = custom_encoder, custom_decoder
        for p in self.parameters():  # torch.nn.Transformer's initialisation
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def encode(self, src, src_mask=None, src_key_padding_mask=None,
               src_is_causal: bool | None = None) -> torch.Tensor:
        """The encoder half: src -> memory, same shape."""
        return self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                            is_causal=src_is_causal)

    def decode(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
               memory_key_padding_mask=None, tgt_is_causal: bool | None = None,
               memory_is_causal: bool = False) -> torch.Tensor:
        """The decoder half: tgt, memory -> output shaped like tgt."""
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal: bool | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False):
        """src (S, N, E), tgt (T, N, E) (batch first if batch_first, or unbatched) -> like tgt."""
        self._check_inputs(src, tgt)
        memory = self.encode(src, src_mask, src_key_padding_mask, src_is_causal)
        return self.decode(tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask,
                           memory_key_padding_mask, tgt_is_causal, memory_is_causal)

    def _check_inputs(self, src: torch.Tensor, tgt: torch.Tensor) -> None:
        n = 0 if self.batch_first else 1
        if src.dim() == 3 and src.shape[n] != tgt.shape[n]:
            raise ValueError(f"tgt: batch size {tgt.shape[n]} must equal src's {src.shape[n]}")
        for name, t in (("src", src), ("tgt", tgt)):
            if t.shape[-1] != self.d_model:
                raise ValueError(f"{name}: last dim must be d_model={self.d_model}, "
                                 f"got shape {tuple(t.shape)}")

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> torch.Tensor:
        """(sz, sz) float mask: 0 on and below the diagonal, -inf above (torch's causal mask)."""
        return torch.triu(torch.full((sz, sz), float("-inf"), device=device, dtype=dtype), 1)
