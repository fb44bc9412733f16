"""Choosing the next token from logits: temperature, top-k and top-p (nucleus) sampling.

* temperature T divides the logits: T < 1 sharpens the distribution (safer, more
  repetitive text), T > 1 flattens it; T = 0 means greedy (argmax).
* top-k keeps the k most likely tokens (Fan et al., 2018).
* top-p keeps the smallest set of most likely tokens whose probability reaches p
  (Holtzman et al., "The Curious Case of Neural Text Degeneration", 2020).

Filtering sets the dropped logits to -inf; the draw is `torch.multinomial` with
an optional `torch.Generator`, so a seed fixes the text.

Shapes: B batch, V vocabulary.

Example:
    >>> logits = torch.tensor([[2.0, 1.0, 0.0, -1.0]])
    >>> filter_logits(logits, top_k=2)
    tensor([[2., 1., -inf, -inf]])
    >>> sample_next(logits, temperature=0.0)
    tensor([[0]])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _check(temperature: float, top_k: int | None, top_p: float | None) -> None:
    if not temperature >= 0:  # also catches NaN
        raise ValueError(f"temperature: expected a value >= 0 (0 is greedy), got {temperature}")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int)
                              or top_k < 1):
        raise ValueError(f"top_k: expected an int >= 1 or None, got {top_k!r}")
    if top_p is not None and not 0.0 < top_p <= 1.0:
        raise ValueError(f"top_p: expected a value in (0, 1] or None, got {top_p}")


def filter_logits(logits: torch.Tensor, top_k: int | None = None,
                  top_p: float | None = None) -> torch.Tensor:
    """logits (B, V) with every token outside the top-k / top-p set at -inf."""
    _check(1.0, top_k, top_p)
    if top_k is not None and top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]  # (B, 1)
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None and top_p < 1.0:
        sorted_logits, order = torch.sort(logits, dim=-1, descending=True)  # (B, V)
        cum = F.softmax(sorted_logits, dim=-1).cumsum(-1)  # (B, V)
        # subtle: a token is dropped when the tokens before it already reach p, so the
        # token that crosses p stays and the most likely token is always kept.
        drop_sorted = (cum - F.softmax(sorted_logits, dim=-1)) >= top_p
        drop = drop_sorted.scatter(-1, order, drop_sorted)  # back to vocabulary order
        logits = logits.masked_fill(drop, float("-inf"))
    return logits


def sample_next(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None,
                top_p: float | None = None,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """One token per row from logits (B, V): returns (B, 1) long.

    Args:
        temperature: divides the logits; 0 is greedy (top_k/top_p then change nothing).
        top_k: keep the k most likely tokens (None: all).
        top_p: keep the most likely tokens up to probability mass p (None: all).
        generator: the random source of the draw (None: torch's global one).
    """
    _check(temperature, top_k, top_p)
    if temperature == 0:
        return logits.argmax(-1, keepdim=True)
    probs = F.softmax(filter_logits(logits / temperature, top_k, top_p), dim=-1)  # (B, V)
    return torch.multinomial(probs, 1, generator=generator)
