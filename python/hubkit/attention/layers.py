"""torch.nn-compatible attention layers on `hubkit::attention`.

`MultiheadAttention`, `TransformerEncoderLayer`, `TransformerDecoderLayer`,
`TransformerEncoder`, `TransformerDecoder` and `Transformer` take their torch.nn
namesakes' constructor arguments and defaults (batch_first=False included), accept
every input form torch documents (unbatched 2-D inputs, bool or float masks,
is_causal hints, ...) and have the same state_dict keys, so a torch checkpoint
loads as is and the outputs agree.

Which path runs (`MultiheadAttention.fused_path` answers it for a call):
- the fused `hubkit::attention` op, whenever no mask is left after the is_causal hint
  is applied (causal is fine), no weights are asked for and no dropout is active;
- otherwise the explicit softmax(q k^T / sqrt(D) + mask) v from
  `hubkit.attention.reference`, since the op has no mask input and keeps no weights.

Shapes: N batch, L query length, S key length, E = embed_dim, H heads, D = E / H.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from hubkit import _backend
from hubkit.attention import ops, reference
from hubkit.attention.ops import attention


def _op_backend(backend: str | None, device: torch.device, d: int, dtype: torch.dtype):
    """The backend the layer asks the op for: its own `backend`, else the op's choice,
    except on CUDA for a head dim or dtype the Triton kernels lack (D > 128, float64)."""
    if backend is not None or device.type != "cuda" or _backend.forced_backend() is not None:
        return backend
    fits = d <= max(ops.TRITON_HEAD_DIMS) and dtype in ops.DTYPES["triton"]
    # subtle: a drop-in must take any embed_dim / num_heads and dtype, so the layer names
    # the op's reference backend here, where the op itself would raise.
    return None if fits else "reference"


def _additive(mask: torch.Tensor | None, name: str, dtype: torch.dtype):
    """A torch-style mask as an additive float mask: bool True (blocked) -> -inf."""
    if mask is None:
        return None
    if mask.dtype == torch.bool:
        return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(
            mask, float("-inf"))
    if not mask.is_floating_point():
        raise ValueError(f"{name}: expected a bool or float mask, got dtype {mask.dtype}")
    return mask.to(dtype)


def _softmax_zero_dead_rows(s: torch.Tensor) -> torch.Tensor:
    """Softmax over the last dim, with rows whose every key is masked (-inf) set to 0.

    This is what torch's scaled_dot_product_attention gives such rows (the path torch's
    MultiheadAttention takes when need_weights=False); the weights path gives NaN.
    """
    dead = (s == float("-inf")).all(-1, keepdim=True)  # (..., L, 1)
    # subtle: fill the dead rows before the softmax too, or 0 * NaN poisons the gradients.
    return reference.softmax(s.masked_fill(dead, 0.0)).masked_fill(dead, 0.0)


class MultiheadAttention(nn.Module):
    """Multi-head attention, a drop-in for torch.nn.MultiheadAttention.

    Args:
        embed_dim: E; must divide by num_heads.
        num_heads: H.
        dropout: dropout on the attention weights (training only).
        bias: learn in_proj_bias and out_proj.bias.
        add_bias_kv: learn one extra key and value (bias_k, bias_v) appended to every sequence.
        add_zero_attn: append a zero key and value to every sequence.
        kdim, vdim: widths of key and value (default E); when either differs from E the
            weights are q_proj_weight, k_proj_weight, v_proj_weight, as in torch.
        batch_first: inputs are (N, L, E) when True, (L, N, E) when False (torch's default).
        device, dtype: where and in what dtype the parameters are created.
        backend: hubkit op backend for the fused path (None picks by device); not in torch.
        rope: rotate q and k by position (RoPE) before attending; not in torch.

    Example:
        >>> import torch
        >>> mha = MultiheadAttention(8, 2)
        >>> x = torch.randn(5, 3, 8)  # (L, N, E): batch_first=False, as torch
        >>> out, w = mha(x, x, x)
        >>> out.shape, w.shape
        (torch.Size([5, 3, 8]), torch.Size([3, 5, 5]))
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device=None, dtype=None, *,
                 backend: str | None = None, rope: bool = False) -> None:
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(f"num_heads: embed_dim={embed_dim} must be a positive multiple of "
                             f"num_heads={num_heads}")
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout, self.batch_first, self.add_zero_attn = dropout, batch_first, add_zero_attn
        self.backend, self.rope = backend, rope
        if rope and self.head_dim % 2:
            raise ValueError(f"rope: needs an even head dim, got {self.head_dim}")
        self._init_parameters(bias, add_bias_kv, {"device": device, "dtype": dtype})
        self._reset_parameters()

    def _init_parameters(self, bias: bool, add_bias_kv: bool, kw: dict) -> None:
        """Create the parameters under torch's names and shapes (unset ones registered None)."""
        e = self.embed_dim
        packed = self._qkv_same_embed_dim
        names = ("in_proj_weight", "q_proj_weight", "k_proj_weight", "v_proj_weight")
        shapes = ((3 * e, e), (e, e), (e, self.kdim), (e, self.vdim))
        for i, (name, shape) in enumerate(zip(names, shapes, strict=True)):
            used = packed if i == 0 else not packed
            self.register_parameter(name, nn.Parameter(torch.empty(shape, **kw)) if used else None)
        self.register_parameter("in_proj_bias",
                                nn.Parameter(torch.empty(3 * e, **kw)) if bias else None)
        self.out_proj = nn.Linear(e, e, bias=bias, **kw)
        if add_bias_kv:
            self.bias_k = nn.Parameter(torch.empty(1, 1, e, **kw))
            self.bias_v = nn.Parameter(torch.empty(1, 1, e, **kw))
        else:
            self.bias_k = self.bias_v = None

    def _reset_parameters(self) -> None:
        """torch's initialisation: Xavier-uniform weights, zero biases, Xavier-normal bias_k/v."""
        for w in (self.in_proj_weight, self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
            if w is not None:
                nn.init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            nn.init.zeros_(self.in_proj_bias)
            nn.init.zeros_(self.out_proj.bias)
        for b in (self.bias_k, self.bias_v):
            if b is not None:
                nn.init.xavier_normal_(b)

    # ------------------------------------------------------------ which path

    def _dropping(self) -> bool:
        return self.training and self.dropout > 0

    def fused_path(self, need_weights: bool = True, attn_mask=None, key_padding_mask=None,
                   is_causal: bool = False) -> bool:
        """True when a call with these arguments runs the fused hubkit::attention op."""
        _, attn_mask = _causal_hint(is_causal, attn_mask, key_padding_mask, need_weights)
        return not (need_weights or attn_mask is not None or key_padding_mask is not None
                    or self._dropping())

    # ------------------------------------------------------------ forward

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True,
                attn_mask=None, average_attn_weights: bool = True, is_causal: bool = False):
        """Attend from query to key/value, as torch.nn.MultiheadAttention.forward.

        Args:
            query: (L, N, E), (N, L, E) if batch_first, or unbatched (L, E).
            key: (S, N, kdim), (N, S, kdim) or (S, kdim); value likewise with vdim.
            key_padding_mask: (N, S) or unbatched (S,); bool (True = padding) or additive float.
            need_weights: also return the attention weights.
            attn_mask: (L, S) or (N * H, L, S); bool (True = blocked) or additive float.
            average_attn_weights: average the returned weights over heads.
            is_causal: hint that attn_mask is the causal mask; alone (no attn_mask, which
                torch refuses) it means the causal mask.

        Returns:
            output shaped like query (E wide); weights (N, L, S) averaged or (N, H, L, S),
            without N when unbatched, or None when need_weights is False.
        """
        batched = self._check_inputs(query, key, value, key_padding_mask, attn_mask)
        q_in, k_in, v_in = (self._batch_first(x, batched) for x in (query, key, value))
        if not batched and key_padding_mask is not None:
            key_padding_mask = key_padding_mask[None]  # (1, S)
        causal, attn_mask = _causal_hint(is_causal, attn_mask, key_padding_mask, need_weights)
        q, k, v = self._in_projection(q_in, k_in, v_in)  # (N, H, L, D), (N, H, S, D) x2
        mask = self._merged_mask(attn_mask, key_padding_mask, q)
        k, v, mask = self._extra_keys(k, v, mask)  # S grows by add_bias_kv + add_zero_attn
        if mask is None and not need_weights and not self._dropping():
            backend = _op_backend(self.backend, q.device, self.head_dim, q.dtype)
            out, w = attention(q, k, v, causal=causal, backend=backend), None  # fused op
        else:
            out, w = self._explicit(q, k, v, mask, causal, need_weights)  # reference path
        out = self.out_proj(reference.merge_heads(out))  # (N, L, E)
        out = out[0] if not batched else out if self.batch_first else out.transpose(0, 1)
        if not need_weights:
            return out, None
        w = w.mean(1) if average_attn_weights else w  # (N, L, S) or (N, H, L, S)
        return out, (w if batched else w[0])

    def _check_inputs(self, query, key, value, key_padding_mask, attn_mask) -> bool:
        """Check ranks and widths as torch does; True when the inputs are batched."""
        if query.dim() not in (2, 3):
            raise ValueError(f"query: expected (L, E) or a batch of 3 dims, got shape "
                             f"{tuple(query.shape)}")
        batched = query.dim() == 3
        for name, t, width in (("query", query, self.embed_dim), ("key", key, self.kdim),
                               ("value", value, self.vdim)):
            if t.dim() != query.dim() or t.shape[-1] != width:
                raise ValueError(f"{name}: expected {query.dim()} dims with last dim {width}, "
                                 f"got shape {tuple(t.shape)}")
        if key.shape[:-1] != value.shape[:-1]:
            raise ValueError(f"value: sequence and batch dims {tuple(value.shape[:-1])} must "
                             f"match key's {tuple(key.shape[:-1])}")
        n_axis, t_axis = (0, 1) if self.batch_first else (1, 0)
        n = query.shape[n_axis] if batched else 1
        lq, s = (query.shape[t_axis], key.shape[t_axis]) if batched else (query.shape[0],
                                                                          key.shape[0])
        if batched and key.shape[n_axis] != n:
            raise ValueError(f"key: batch size must match query's {n}, got shape "
                             f"{tuple(key.shape)}")
        self._check_masks(key_padding_mask, attn_mask, batched, n, lq, s)
        return batched

    def _check_masks(self, key_padding_mask, attn_mask, batched: bool, n: int, lq: int, s: int):
        if key_padding_mask is not None:
            want = (n, s) if batched else (s,)
            if tuple(key_padding_mask.shape) != want:
                raise ValueError(f"key_padding_mask: expected shape {want}, got "
                                 f"{tuple(key_padding_mask.shape)}")
        if attn_mask is not None:
            ok = ((lq, s), (n * self.num_heads, lq, s))
            if tuple(attn_mask.shape) not in ok:
                raise ValueError(f"attn_mask: expected shape {ok[0]} or {ok[1]} "
                                 f"(N * num_heads, L, S), got {tuple(attn_mask.shape)}")

    def _batch_first(self, x: torch.Tensor, batched: bool) -> torch.Tensor:
        """Any accepted input layout -> (N, T, width)."""
        if not batched:
            return x[None]
        return x if self.batch_first else x.transpose(0, 1)

    def _in_projection(self, query, key, value):
        """(N, T, width) inputs -> q, k, v split into heads, (N, H, T, D) each."""
        e = self.embed_dim
        if self._qkv_same_embed_dim:
            weights = self.in_proj_weight.split(e)
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        biases = (None,) * 3 if self.in_proj_bias is None else self.in_proj_bias.split(e)
        q, k, v = (reference.split_heads(F.linear(x, w, b), self.num_heads)
                   for x, w, b in zip((query, key, value), weights, biases, strict=True))
        if self.rope:
            q, k = reference.rope(q), reference.rope(k)  # rotated by position
        return q, k, v

    def _merged_mask(self, attn_mask, key_padding_mask, q: torch.Tensor):
        """attn_mask and key_padding_mask as one additive mask broadcastable to (N, H, L, S)."""
        n, h = q.shape[0], self.num_heads
        mask = _additive(attn_mask, "attn_mask", q.dtype)
        if mask is not None:
            mask = mask.view(-1, h, *mask.shape[-2:]) if mask.dim() == 3 else mask[None, None]
        kpm = _additive(key_padding_mask, "key_padding_mask", q.dtype)
        if kpm is not None:
            kpm = kpm.view(n, 1, 1, -1)  # (N, 1, 1, S)
            mask = kpm if mask is None else mask + kpm
        return mask

    def _extra_keys(self, k, v, mask):
        """Append bias_k/bias_v, then a zero key/value (add_zero_attn); masks let them through."""
        extra = []
        if self.bias_k is not None:
            extra.append((self.bias_k, self.bias_v))  # (1, 1, E) each
        if self.add_zero_attn:
            zero = k.new_zeros(1, 1, self.embed_dim)
            extra.append((zero, zero))
        for bk, bv in extra:
            n, h, d = k.shape[0], self.num_heads, self.head_dim
            bk, bv = (b.view(1, h, 1, d).expand(n, h, 1, d) for b in (bk, bv))  # (N, H, 1, D)
            k, v = torch.cat([k, bk], dim=2), torch.cat([v, bv], dim=2)
        if mask is not None and extra:
            mask = F.pad(mask, (0, len(extra)))  # 0 = the extra keys are always visible
        return k, v, mask

    def _explicit(self, q, k, v, mask, causal: bool, need_weights: bool):
        """softmax(q k^T / sqrt(D) + mask) v, materialised; also the (N, H, L, S) weights."""
        s = reference.attention_scores(q, k, mask=mask, causal=causal)  # (N, H, L, S)
        w = reference.softmax(s) if need_weights else _softmax_zero_dead_rows(s)
        # subtle: torch returns the weights after dropout; same shape and order, so the
        # same seed drops the same entries.
        w = F.dropout(w, self.dropout, self.training)
        return reference.attention_pool(w, v), w


def _causal_hint(is_causal: bool, attn_mask, key_padding_mask, need_weights: bool):
    """(causal flag, attn_mask) after torch's reading of the is_causal hint.

    torch trusts the hint (drops attn_mask, attends causally) only when there is no
    key padding mask and no weights are wanted; otherwise attn_mask itself is used.
    """
    if not is_causal:
        return False, attn_mask
    if attn_mask is None or (key_padding_mask is None and not need_weights):
        return True, None
    return False, attn_mask


# ---------------------------------------------------------------- transformer layers


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
