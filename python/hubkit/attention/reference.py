"""Attention and the Transformer, written out: the spec every optimized version must match.

Attention is a weighted average. Each query scores every key, the scores become
weights through a softmax, and the output is the weighted average of the values:

    out = softmax(q k^T * scale + mask) v,   scale = 1 / sqrt(D)

(Bahdanau et al. 2014, https://arxiv.org/abs/1409.0473; Vaswani et al. 2017,
"Attention Is All You Need", https://arxiv.org/abs/1706.03762). FlashAttention
(Dao 2023, https://arxiv.org/abs/2307.08691) computes the same thing block by
block; `attention_forward_reference` / `attention_backward_reference` spell out
the log-sum-exp and the D = rowsum(dO * O) trick its backward pass relies on.

The encoder/decoder functions take a parameter dict using torch.nn's state_dict
names, so each piece is checked against torch.nn.Transformer directly.

Shapes: B batch, H heads, T time (Tq queries, Tk keys), D head dim,
C model width (C = H * D), V vocabulary.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

Params = dict[str, torch.Tensor]

# ---------------------------------------------------------------- attention


def attention_pool(weights: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """Weighted average of values: weights (..., Tq, Tk) rows sum to 1, values (..., Tk, D)."""
    return weights @ values  # (..., Tq, D): out[i] = sum_j weights[i, j] * values[j]


def causal_mask(tq: int, tk: int, device=None) -> torch.Tensor:
    """(Tq, Tk) bool, True where query i may see key j (j <= i, top-left aligned like torch)."""
    return torch.ones(tq, tk, dtype=torch.bool, device=device).tril()


def padding_mask(lengths: torch.Tensor, t: int) -> torch.Tensor:
    """(B, T) bool, True at padding positions (index >= length), as torch's key_padding_mask."""
    return torch.arange(t, device=lengths.device)[None, :] >= lengths[:, None]


def attention_scores(q: torch.Tensor, k: torch.Tensor, scale: float | None = None,
                     mask: torch.Tensor | None = None, causal: bool = False) -> torch.Tensor:
    """Scaled, masked logits q k^T * scale: q (..., Tq, D), k (..., Tk, D) -> (..., Tq, Tk).

    mask: bool (True = may attend) or float (added), broadcastable to (..., Tq, Tk).
    """
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = (q @ k.transpose(-2, -1)) * scale  # (..., Tq, Tk)
    if causal:
        s = s.masked_fill(~causal_mask(q.shape[-2], k.shape[-2], q.device), float("-inf"))
    if mask is not None:
        s = s.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else s + mask
    return s


def softmax(s: torch.Tensor) -> torch.Tensor:
    """Softmax over the last dim; subtracting the row max keeps exp from overflowing."""
    # subtle: without the max, exp(100.) overflows float32 to inf and inf/inf = nan.
    e = torch.exp(s - s.amax(-1, keepdim=True))
    return e / e.sum(-1, keepdim=True)


def scaled_dot_product_attention(q, k, v, *, causal: bool = False, scale: float | None = None,
                                 mask: torch.Tensor | None = None, return_weights: bool = False):
    """Soft attention: softmax(q k^T * scale) v.

    Args:
        q: (B, H, Tq, D) queries (any leading dims).
        k: (B, H, Tk, D) keys.
        v: (B, H, Tk, Dv) values.
        causal: query i sees keys j <= i.
        scale: logit scale, default 1/sqrt(D).
        mask: bool (True = attend) or additive float, broadcastable to (B, H, Tq, Tk).
        return_weights: also return the (B, H, Tq, Tk) weights.

    Returns:
        (B, H, Tq, Dv) output (and the weights).

    Example:
        >>> q = k = v = torch.randn(1, 2, 5, 4)
        >>> ref = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        >>> torch.allclose(scaled_dot_product_attention(q, k, v, causal=True), ref, atol=1e-6)
        True
    """
    w = softmax(attention_scores(q, k, scale, mask, causal))  # (B, H, Tq, Tk)
    out = attention_pool(w, v)  # (B, H, Tq, Dv)
    return (out, w) if return_weights else out


def hard_attention(q, k, v, *, scale: float | None = None) -> torch.Tensor:
    """Hard attention: each query takes the single value whose key scores highest.

    The one-hot weights have zero gradient almost everywhere, which is why soft
    attention (differentiable everywhere) is what gets trained.
    """
    s = attention_scores(q, k, scale)  # (..., Tq, Tk)
    w = F.one_hot(s.argmax(-1), s.shape[-1]).to(v.dtype)  # (..., Tq, Tk)
    return attention_pool(w, v)


def attention_forward_reference(q, k, v, causal: bool, scale: float):
    """Forward pass as FlashAttention defines it: output and per-row log-sum-exp.

    Args:
        q: (B, H, Tq, D); k, v: (B, H, Tk, D).

    Returns:
        out (B, H, Tq, D) in q's dtype; lse (B, H, Tq) float32 (float64 for float64 input),
        lse[i] = log sum_j exp(s[i, j]), so softmax row i is exp(s[i] - lse[i]).
    """
    work = torch.float64 if q.dtype == torch.float64 else torch.float32
    s = attention_scores(q.to(work), k.to(work), scale, causal=causal)  # (B, H, Tq, Tk)
    lse = torch.logsumexp(s, dim=-1)  # (B, H, Tq)
    p = torch.exp(s - lse[..., None])
    return (p @ v.to(work)).to(q.dtype), lse


def attention_backward_reference(do, q, k, v, out, lse, causal: bool, scale: float):
    """Gradients of attention from the saved log-sum-exp (no stored (Tq, Tk) matrix needed).

    With P = exp(S - lse) recomputed: dV = P^T dO, dP = dO V^T,
    dS = P * (dP - D) where D = rowsum(dO * O) (= rowsum(P * dP)), dQ = scale dS K,
    dK = scale dS^T Q.

    Returns:
        dq (B, H, Tq, D), dk (B, H, Tk, D), dv (B, H, Tk, D) in q's dtype.
    """
    work, dtype = lse.dtype, q.dtype
    q, k, v, do, out = (t.to(work) for t in (q, k, v, do, out))
    p = torch.exp(attention_scores(q, k, scale, causal=causal) - lse[..., None])  # (B,H,Tq,Tk)
    dv = p.transpose(-2, -1) @ do  # (B, H, Tk, D)
    dp = do @ v.transpose(-2, -1)  # (B, H, Tq, Tk)
    delta = (do * out).sum(-1, keepdim=True)  # (B, H, Tq, 1)
    ds = p * (dp - delta)
    dq, dk = (ds @ k) * scale, (ds.transpose(-2, -1) @ q) * scale
    return tuple(g.to(dtype) for g in (dq, dk, dv))


# ---------------------------------------------------------------- multi-head


def split_heads(x: torch.Tensor, h: int) -> torch.Tensor:
    """(B, T, C) -> (B, H, T, D) with D = C / H."""
    b, t, c = x.shape
    return x.view(b, t, h, c // h).transpose(1, 2)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """(B, H, T, D) -> (B, T, C)."""
    b, h, t, d = x.shape
    return x.transpose(1, 2).reshape(b, t, h * d)


def combine_masks(b: int, tq: int, tk: int, attn_mask=None, key_padding_mask=None):
    """One bool mask (B, 1, Tq, Tk), True = may attend, from torch-style masks (True = blocked).

    attn_mask: (Tq, Tk) bool (True = blocked) or float (added). key_padding_mask: (B, Tk).
    Returns a bool mask, a float mask or None, broadcastable to (B, H, Tq, Tk).
    """
    mask = None
    if attn_mask is not None:
        mask = ~attn_mask if attn_mask.dtype == torch.bool else attn_mask
    if key_padding_mask is not None:
        keep = ~key_padding_mask.view(b, 1, 1, tk)
        if mask is None or mask.dtype == torch.bool:
            mask = keep if mask is None else mask & keep
        else:
            mask = mask.masked_fill(~keep, float("-inf"))
    return mask


def multi_head_attention(query, key, value, p: Params, num_heads: int, *, attn_mask=None,
                         key_padding_mask=None, causal: bool = False):
    """Multi-head attention with torch.nn.MultiheadAttention's parameters (batch_first).

    Args:
        query: (B, Tq, C); key, value: (B, Tk, C).
        p: in_proj_weight (3C, C), in_proj_bias (3C,), out_proj.weight (C, C), out_proj.bias.
        num_heads: H; each head works in D = C / H dims.
        attn_mask: (Tq, Tk) bool (True = blocked) or additive float.
        key_padding_mask: (B, Tk) bool, True at padding.
        causal: block future keys.

    Returns:
        (B, Tq, C) output and the head-averaged weights (B, Tq, Tk).
    """
    wq, wk, wv = p["in_proj_weight"].chunk(3)
    bq, bk, bv = p["in_proj_bias"].chunk(3)
    q = split_heads(F.linear(query, wq, bq), num_heads)  # (B, H, Tq, D)
    k = split_heads(F.linear(key, wk, bk), num_heads)  # (B, H, Tk, D)
    v = split_heads(F.linear(value, wv, bv), num_heads)  # (B, H, Tk, D)
    mask = combine_masks(q.shape[0], q.shape[2], k.shape[2], attn_mask, key_padding_mask)
    out, w = scaled_dot_product_attention(q, k, v, causal=causal, mask=mask, return_weights=True)
    out = F.linear(merge_heads(out), p["out_proj.weight"], p["out_proj.bias"])  # (B, Tq, C)
    return out, w.mean(1)


# ---------------------------------------------------------------- positions


def sinusoidal_positions(t: int, c: int, base: float = 10000.0) -> torch.Tensor:
    """(T, C) table: sin at even dims, cos at odd dims, wavelengths 2 pi .. base * 2 pi."""
    pos = torch.arange(t, dtype=torch.float32)[:, None]  # (T, 1)
    freq = base ** (-torch.arange(0, c, 2, dtype=torch.float32) / c)  # (C/2,)
    table = torch.zeros(t, c)
    table[:, 0::2] = torch.sin(pos * freq)
    table[:, 1::2] = torch.cos(pos * freq[: c // 2])
    return table


def learned_positions(t: int, c: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """(T, C) trainable table initialised small; wrap in nn.Parameter (BERT/GPT-2 style)."""
    return torch.randn(t, c, generator=generator) * 0.02


def rope(x: torch.Tensor, base: float = 10000.0, offset: int = 0) -> torch.Tensor:
    """Rotary position embedding (Su et al. 2021, https://arxiv.org/abs/2104.09864).

    Rotates each pair (x[2i], x[2i+1]) of q or k at position t by angle t * base^(-2i/D),
    so q_t . k_s depends only on t - s.

    Args:
        x: (B, H, T, D), D even.
        offset: position of the first time step.
    """
    t, d = x.shape[-2], x.shape[-1]
    freq = base ** (-torch.arange(0, d, 2, dtype=torch.float32, device=x.device) / d)  # (D/2,)
    angle = torch.arange(offset, offset + t, device=x.device, dtype=torch.float32)[:, None] * freq
    cos, sin = angle.cos().to(x.dtype), angle.sin().to(x.dtype)  # (T, D/2)
    x1, x2 = x[..., 0::2], x[..., 1::2]
    out = torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)  # (..., T, D/2, 2)
    return out.flatten(-2)


# ---------------------------------------------------------------- norm + residual


def layer_norm(x: torch.Tensor, weight, bias, eps: float = 1e-5) -> torch.Tensor:
    """Normalise each position over its C features, then scale and shift. x: (B, T, C)."""
    mean = x.mean(-1, keepdim=True)
    var = x.var(-1, keepdim=True, unbiased=False)
    return (x - mean) / torch.sqrt(var + eps) * weight + bias


def residual(x: torch.Tensor, sublayer: Callable, norm: Callable, norm_first: bool):
    """Residual wiring: pre-norm x + f(norm(x)), or post-norm (the 2017 paper) norm(x + f(x))."""
    return x + sublayer(norm(x)) if norm_first else norm(x + sublayer(x))


def _sub(p: Params, prefix: str) -> Params:
    return {k[len(prefix):]: v for k, v in p.items() if k.startswith(prefix)}


def _norm(p: Params, name: str, eps: float) -> Callable:
    return lambda x: layer_norm(x, p[f"{name}.weight"], p[f"{name}.bias"], eps)


def feed_forward(x: torch.Tensor, p: Params, activation: Callable = F.relu) -> torch.Tensor:
    """Position-wise MLP: linear2(act(linear1(x))). x: (B, T, C)."""
    return F.linear(activation(F.linear(x, p["linear1.weight"], p["linear1.bias"])),
                    p["linear2.weight"], p["linear2.bias"])


# ---------------------------------------------------------------- encoder / decoder


def encoder_layer(x, p: Params, num_heads: int, *, key_padding_mask=None, norm_first=False,
                  eps: float = 1e-5) -> torch.Tensor:
    """One encoder layer (torch.nn.TransformerEncoderLayer names): self-attention, then MLP.

    x: (B, T, C) -> (B, T, C).
    """
    def attn(y):
        return multi_head_attention(y, y, y, _sub(p, "self_attn."), num_heads,
                                    key_padding_mask=key_padding_mask)[0]

    x = residual(x, attn, _norm(p, "norm1", eps), norm_first)
    return residual(x, lambda y: feed_forward(y, p), _norm(p, "norm2", eps), norm_first)


def decoder_layer(x, memory, p: Params, num_heads: int, *, tgt_key_padding_mask=None,
                  memory_key_padding_mask=None, norm_first=False, eps: float = 1e-5):
    """One decoder layer: causal self-attention, cross-attention to memory, then MLP.

    x: (B, Tq, C) target so far; memory: (B, Tk, C) encoder output -> (B, Tq, C).
    """
    def self_attn(y):
        return multi_head_attention(y, y, y, _sub(p, "self_attn."), num_heads, causal=True,
                                    key_padding_mask=tgt_key_padding_mask)[0]

    def cross_attn(y):
        return multi_head_attention(y, memory, memory, _sub(p, "multihead_attn."), num_heads,
                                    key_padding_mask=memory_key_padding_mask)[0]

    x = residual(x, self_attn, _norm(p, "norm1", eps), norm_first)
    x = residual(x, cross_attn, _norm(p, "norm2", eps), norm_first)
    return residual(x, lambda y: feed_forward(y, p), _norm(p, "norm3", eps), norm_first)


def encoder(x, p: Params, num_layers: int, num_heads: int, *, key_padding_mask=None,
            norm_first=False) -> torch.Tensor:
    """Stack of encoder layers plus torch.nn.Transformer's final norm. (B, T, C) -> (B, T, C)."""
    for i in range(num_layers):
        x = encoder_layer(x, _sub(p, f"layers.{i}."), num_heads,
                          key_padding_mask=key_padding_mask, norm_first=norm_first)
    return _norm(p, "norm", 1e-5)(x)


def decoder(x, memory, p: Params, num_layers: int, num_heads: int, *,
            tgt_key_padding_mask=None, memory_key_padding_mask=None, norm_first=False):
    """Stack of decoder layers plus the final norm. (B, Tq, C), (B, Tk, C) -> (B, Tq, C)."""
    for i in range(num_layers):
        x = decoder_layer(x, memory, _sub(p, f"layers.{i}."), num_heads,
                          tgt_key_padding_mask=tgt_key_padding_mask,
                          memory_key_padding_mask=memory_key_padding_mask,
                          norm_first=norm_first)
    return _norm(p, "norm", 1e-5)(x)


def transformer(src, tgt, p: Params, num_layers: tuple[int, int], num_heads: int, *,
                src_key_padding_mask=None, tgt_key_padding_mask=None, norm_first=False):
    """Encoder-decoder Transformer with torch.nn.Transformer(batch_first=True)'s state_dict.

    Args:
        src: (B, Ts, C) embedded source; tgt: (B, Tt, C) embedded target (shifted right).
        num_layers: (encoder layers, decoder layers).

    Returns:
        (B, Tt, C) decoder output (a vocabulary head on top gives next-token logits).
    """
    memory = encoder(src, _sub(p, "encoder."), num_layers[0], num_heads,
                     key_padding_mask=src_key_padding_mask, norm_first=norm_first)
    return decoder(tgt, memory, _sub(p, "decoder."), num_layers[1], num_heads,
                   tgt_key_padding_mask=tgt_key_padding_mask,
                   memory_key_padding_mask=src_key_padding_mask, norm_first=norm_first)


# ---------------------------------------------------------------- decoding

StepFn = Callable[[torch.Tensor], torch.Tensor]
"""(N, T) prefixes -> (N, V) next-token log-probs. N = B * K rows grouped by sentence:
row r continues sentence r // K (K = 1 for greedy decoding, K = beam for beam search).
A step function must treat every row on its own, so that a sentence decodes the same
alone or in any batch; a translation model gets this from its source padding mask."""


def _first_best(scores: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The k highest scores along the last dim and their indices; ties go to the lower index."""
    # subtle: topk leaves the order of equal scores unspecified; a stable sort makes greedy
    # (k=1, same as argmax) and beam search pick the same token when two tie.
    values, index = torch.sort(scores, dim=-1, descending=True, stable=True)
    return values[..., :k], index[..., :k]


def _only_eos_after_eos(logp: torch.Tensor, done: torch.Tensor, eos: int) -> torch.Tensor:
    """Rows that have emitted eos may only emit eos again, at no cost. logp (N, V), done (N,)."""
    frozen = torch.full_like(logp, float("-inf"))
    frozen[:, eos] = 0.0
    return torch.where(done[:, None], frozen, logp)


def greedy_decode(step: StepFn, bos: int, eos: int, max_len: int, batch: int = 1,
                  device=None) -> torch.Tensor:
    """Append the most likely next token until every row has emitted eos or max_len is reached.

    Args:
        step: a `StepFn` (here K = 1: row b is sentence b).
        bos, eos: start and end token ids.
        max_len: most tokens generated after bos.
        batch: B, sentences decoded together.

    Returns:
        (B, T) tokens starting with bos; positions after eos are filled with eos, so a
        row equals the row the same sentence gets when decoded alone, up to its first eos.
    """
    seq = torch.full((batch, 1), bos, dtype=torch.long, device=device)
    done = torch.zeros(batch, dtype=torch.bool, device=device)
    for _ in range(max_len):
        logp = _only_eos_after_eos(step(seq), done, eos)  # (B, V)
        nxt = _first_best(logp, 1)[1][:, 0]  # (B,), the argmax
        seq = torch.cat([seq, nxt[:, None]], dim=1)
        done |= nxt == eos
        if bool(done.all()):
            break
    return seq


def beam_search(step: StepFn, bos: int, eos: int, max_len: int, beam: int = 4, batch: int = 1,
                device=None) -> torch.Tensor:
    """Keep the `beam` best prefixes of each sentence by total log-probability.

    A finished prefix (ended by eos) keeps its slot and its score. Log-probs are <= 0, so
    once a sentence's best prefix has finished nothing can overtake it: decoding stops when
    that holds for every sentence, or after max_len tokens. With beam=1 this is
    `greedy_decode`.

    Args:
        step: a `StepFn` called on (B * beam, T) prefixes, beam rows per sentence.
        bos, eos: start and end token ids.
        max_len: most tokens generated after bos.
        beam: K, prefixes kept per sentence.
        batch: B, sentences decoded together.

    Returns:
        (B, T) best prefix of each sentence, starting with bos, filled with eos after eos.
    """
    if beam < 1:
        raise ValueError(f"beam: expected at least 1, got {beam}")
    b, k = batch, beam
    seq = torch.full((b * k, 1), bos, dtype=torch.long, device=device)  # (B*K, T)
    score = torch.full((b, k), float("-inf"), device=device)
    score[:, 0] = 0.0  # K copies of [bos]; only the first is live, so no prefix is kept twice
    done = torch.zeros(b * k, dtype=torch.bool, device=device)
    first_row = torch.arange(b, device=device)[:, None] * k  # (B, 1)
    for _ in range(max_len):
        logp = _only_eos_after_eos(step(seq), done, eos)  # (B*K, V)
        v = logp.shape[-1]
        total = (score.reshape(b * k, 1) + logp).reshape(b, k * v)  # (B, K*V)
        score, flat = _first_best(total, k)  # (B, K), best first
        parent = (first_row + flat // v).reshape(-1)  # (B*K,) rows of seq being extended
        tok = (flat % v).reshape(-1, 1)
        seq = torch.cat([seq[parent], tok], dim=1)
        done = done[parent] | (tok[:, 0] == eos)
        if bool(done.reshape(b, k)[:, 0].all()):
            break
    return seq.reshape(b, k, -1)[:, 0]  # (B, T)
