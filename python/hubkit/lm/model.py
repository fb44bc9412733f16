"""A GPT (decoder-only transformer) in the nanoGPT mould, with a KV cache for generation.

Radford et al., "Language Models are Unsupervised Multitask Learners" (GPT-2, 2019):
token + learned position embeddings, pre-norm blocks of causal self-attention and
a GELU MLP, a final LayerNorm and a vocabulary head tied to the token embedding.
Attention runs on `hubkit::attention` (`hubkit.ops.attention`), split into heads
with `hubkit.attention.reference`.

Generation (`generate`) keeps each layer's keys and values (`KVCache`) so that a
new token costs one position of work instead of the whole prefix. The cache is
an optimisation only: `generate(..., use_cache=False)` recomputes the full prefix
every step and gives the same tokens (tests/lm/test_model.py).

Shape legend: B batch, T time (tokens), C = n_embd, H heads, D = C / H head dim,
V vocabulary, S cached length (past tokens).

Example:
    >>> torch.manual_seed(0) and None
    >>> model = GPT(GPTConfig(vocab_size=50, block_size=16, n_layer=2, n_head=2, n_embd=16))
    >>> ids = torch.tensor([[1, 2, 3]])
    >>> out = model.generate(ids, 5, temperature=0.0)
    >>> out.shape, torch.equal(out, model.generate(ids, 5, temperature=0.0, use_cache=False))
    (torch.Size([1, 8]), True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from hubkit.attention import reference
from hubkit.attention.ops import attention
from hubkit.lm.sampling import sample_next


@dataclass
class GPTConfig:
    """Size of a GPT. The defaults are the documented ~10M-parameter run on 2 CPU cores."""

    vocab_size: int = 4096
    """V: token ids the model reads and predicts (the tokenizer's vocab_size)."""
    block_size: int = 128
    """Longest context (positions with a learned embedding)."""
    n_layer: int = 6
    """Transformer blocks."""
    n_head: int = 6
    """H: attention heads; must divide n_embd."""
    n_embd: int = 384
    """C: width of the residual stream."""
    dropout: float = 0.0
    """Dropout on embeddings, attention output and MLP output (training only)."""
    bias: bool = True
    """Biases in the linear layers and LayerNorms (GPT-2 has them)."""

    def __post_init__(self) -> None:
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name}: expected a positive int, got {value!r}")
        if self.n_embd % self.n_head:
            raise ValueError(f"n_head: n_embd={self.n_embd} must be a multiple of "
                             f"n_head={self.n_head}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout: expected a value in [0, 1), got {self.dropout}")


class KVCache:
    """Keys and values of the tokens seen so far, one (k, v) pair per layer.

    Each k and v is (B, H, S, D); `length` is S, the position of the next token.
    """

    def __init__(self, n_layer: int) -> None:
        self.layers: list[tuple[torch.Tensor, torch.Tensor] | None] = [None] * n_layer

    @property
    def length(self) -> int:
        first = self.layers[0]
        return 0 if first is None else first[0].shape[2]

    def append(self, layer: int, k: torch.Tensor, v: torch.Tensor):
        """Add new (B, H, T, D) keys and values to layer `layer`; returns all of them."""
        past = self.layers[layer]
        if past is not None:
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)  # (B,H,S+T,D)
        self.layers[layer] = (k, v)
        return k, v


def cached_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                     backend: str | None = None) -> torch.Tensor:
    """Causal attention of T new queries over S + T keys, the first S of them cached.

    Query i (at absolute position S + i) sees keys 0 .. S + i.

    Args:
        q: (B, H, T, D) queries of the new tokens.
        k, v: (B, H, S + T, D) keys and values, cached ones first.

    Returns:
        (B, H, T, D).
    """
    t, total = q.shape[2], k.shape[2]
    if t == total:  # no past: the ordinary causal mask
        return attention(q, k, v, causal=True, backend=backend)
    if t == 1:  # one new token sees every key: no mask at all
        return attention(q, k, v, causal=False, backend=backend)
    # subtle: the op's causal mask is top-left aligned (query i sees keys <= i); with a
    # past the new queries sit at the bottom right, so the mask is built explicitly.
    allowed = torch.ones(t, total, dtype=torch.bool, device=q.device).tril(total - t)
    return reference.scaled_dot_product_attention(q, k, v, mask=allowed)


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention with one fused q, k, v projection (nanoGPT's c_attn)."""

    def __init__(self, cfg: GPTConfig, backend: str | None = None) -> None:
        super().__init__()
        self.n_head, self.backend = cfg.n_head, backend
        self.c_attn = nn.Linear(cfg.n_embd, 3 * cfg.n_embd, bias=cfg.bias)
        self.c_proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=cfg.bias)
        self.resid_dropout = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, cache: KVCache | None = None,
                layer: int = 0) -> torch.Tensor:
        """x (B, T, C) -> (B, T, C); with a cache, x holds only the new tokens."""
        q, k, v = self.c_attn(x).split(x.shape[-1], dim=2)  # (B, T, C) each
        q, k, v = (reference.split_heads(t, self.n_head) for t in (q, k, v))  # (B, H, T, D)
        if cache is not None:
            k, v = cache.append(layer, k, v)  # (B, H, S + T, D)
        y = cached_attention(q, k, v, self.backend)  # (B, H, T, D)
        return self.resid_dropout(self.c_proj(reference.merge_heads(y)))  # (B, T, C)


class MLP(nn.Module):
    """C -> 4C -> GELU -> C."""

    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.c_fc = nn.Linear(cfg.n_embd, 4 * cfg.n_embd, bias=cfg.bias)
        self.c_proj = nn.Linear(4 * cfg.n_embd, cfg.n_embd, bias=cfg.bias)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x))))


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, cfg: GPTConfig, backend: str | None = None) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.attn = CausalSelfAttention(cfg, backend)
        self.ln_2 = nn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.mlp = MLP(cfg)

    def forward(self, x: torch.Tensor, cache: KVCache | None = None,
                layer: int = 0) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), cache, layer)
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """Decoder-only language model: ids (B, T) -> next-token logits (B, T, V).

    Args:
        cfg: the sizes (`GPTConfig`).
        backend: `hubkit.ops.attention` backend (None picks by device).
    """

    def __init__(self, cfg: GPTConfig, backend: str | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.block_size, cfg.n_embd)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg, backend) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # weight tying (GPT-2, Press & Wolf 2017)
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):  # GPT-2: residual projections scaled by depth
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * cfg.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def num_params(self, non_embedding: bool = False) -> int:
        """Parameter count (the tied head counted once); non_embedding drops wte and wpe."""
        n = sum(p.numel() for p in self.parameters())
        return n - self.wte.weight.numel() - self.wpe.weight.numel() if non_embedding else n

    def hidden(self, ids: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        """Final hidden states (B, T, C) of ids (B, T); positions continue after the cache."""
        start = 0 if cache is None else cache.length
        t = ids.shape[1]
        if start + t > self.cfg.block_size:
            raise ValueError(f"ids: {start} cached + {t} new tokens exceed block_size "
                             f"{self.cfg.block_size}")
        pos = torch.arange(start, start + t, device=ids.device)  # (T,)
        x = self.drop(self.wte(ids) + self.wpe(pos))  # (B, T, C)
        for i, block in enumerate(self.blocks):
            x = block(x, cache, i)
        return self.ln_f(x)

    def forward(self, ids: torch.Tensor, targets: torch.Tensor | None = None,
                cache: KVCache | None = None):
        """Logits (B, T, V), and the mean cross-entropy when targets (B, T) are given.

        Targets equal to -1 are ignored (padding).
        """
        if ids.dim() != 2 or ids.dtype != torch.long:
            raise ValueError(f"ids: expected a (B, T) long tensor, got {ids.dtype} "
                             f"shape {tuple(ids.shape)}")
        logits = self.lm_head(self.hidden(ids, cache))  # (B, T, V)
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-1)
        return logits, loss

    @torch.no_grad()
    def generate(self, ids: torch.Tensor, max_new_tokens: int, temperature: float = 1.0,
                 top_k: int | None = None, top_p: float | None = None,
                 generator: torch.Generator | None = None, use_cache: bool = True,
                 eos: int | None = None) -> torch.Tensor:
        """Append `max_new_tokens` sampled tokens to ids (B, T); returns (B, T + new).

        temperature 0 takes the most likely token (greedy); top_k / top_p restrict the
        draw (see `hubkit.lm.sampling`). With use_cache=False every step recomputes the
        whole prefix: slower, same tokens. Generation stops early once every row has
        produced `eos` (when given). Past block_size tokens both paths see only the
        last block_size (the full cache is then rebuilt from them every step).
        """
        was_training = self.training
        self.eval()
        out, cache, fresh = ids, None, ids
        for _ in range(max_new_tokens):
            if not use_cache or cache is None or cache.length >= self.cfg.block_size:
                cache = KVCache(self.cfg.n_layer) if use_cache else None
                fresh = out[:, -self.cfg.block_size:]  # (B, <= block_size)
            logits, _ = self(fresh, cache=cache)  # (B, T, V)
            nxt = sample_next(logits[:, -1], temperature, top_k, top_p, generator)  # (B, 1)
            out = torch.cat([out, nxt], dim=1)
            fresh = nxt
            if eos is not None and bool((out[:, ids.shape[1]:] == eos).any(1).all()):
                break
        self.train(was_training)
        return out
