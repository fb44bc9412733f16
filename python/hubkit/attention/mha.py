"""`hubkit.nn.MultiheadAttention`: torch.nn.MultiheadAttention on `hubkit::attention`.

It takes torch's constructor arguments and defaults (batch_first=False included),
accepts every input form torch documents (unbatched 2-D inputs, bool or float
masks, is_causal hints, add_bias_kv, add_zero_attn, kdim/vdim, need_weights with
average_attn_weights) and has the same state_dict keys, so a torch checkpoint
loads as is and the outputs agree.

Which path runs (`MultiheadAttention.fused_path` answers it for a call):
- the fused `hubkit::attention` op, whenever no mask is left after the is_causal hint
  is applied (causal is fine), no weights are asked for and no dropout is active;
- otherwise the explicit softmax(q k^T / sqrt(D) + mask) v from
  `hubkit.attention.reference`, since the op has no mask input and keeps no weights.

Shapes: N batch, L query length, S key length, E = embed_dim, H heads, D = E / H.
"""

from __future__ import annotations

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
        if backend is not None and backend not in ops.SPEC.implemented:
            # subtle: checked here, not only in the op: the weights path (need_weights=True,
            # torch's default) never calls the op, so a bad name would pass unnoticed.
            raise ValueError(f"backend: hubkit.ops.attention has no {backend!r} backend; "
                             f"it has {ops.SPEC.implemented}")
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
