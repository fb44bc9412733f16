"""Parameter-efficient fine-tuning, written out: LoRA, prompt tuning, prefix tuning.

LoRA (Hu et al., 2021, https://arxiv.org/abs/2106.09685) freezes a pretrained
weight W (N, K) and learns a low-rank update B A, with A (r, K) and B (N, r):

    y = x W^T + b + (alpha / r) * dropout(x) A^T B^T

A starts random (Kaiming-uniform, as nn.Linear initializes) and B starts at
zero, so training begins exactly at the pretrained model. After training the
update folds into the weight (W + scale * B A: "merge") and inference costs
nothing extra.

Prompt tuning (Lester et al., 2021, https://arxiv.org/abs/2104.08691) learns
P virtual token embeddings prepended to the input embeddings. Prefix tuning
(Li & Liang, 2021, https://arxiv.org/abs/2101.00190) learns P extra keys and
values for every attention layer, so every layer (not only the input) is steered.

Shapes: x (..., K) -> (..., N); K in features, N out features, r rank,
B batch, T time, C channels (hidden size), H heads, D head dim, P prefix length.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def lora_linear_reference(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                          lora_a: torch.Tensor, lora_b: torch.Tensor,
                          scale: float) -> torch.Tensor:
    """y = x W^T + b + scale * (x A^T) B^T.

    Args:
        x: (..., K) input.
        weight: (N, K) frozen base weight.
        bias: (N,) or None.
        lora_a: (r, K) down projection A.
        lora_b: (N, r) up projection B.
        scale: alpha / r.

    Returns:
        (..., N) output.

    Example:
        >>> import torch
        >>> x, w = torch.randn(2, 4), torch.randn(3, 4)
        >>> a, b = torch.randn(1, 4), torch.zeros(3, 1)
        >>> torch.allclose(lora_linear_reference(x, w, None, a, b, 2.0), x @ w.T)
        True
    """
    y = x @ weight.t()                              # (..., N)
    y = y + scale * ((x @ lora_a.t()) @ lora_b.t())  # (..., r) then (..., N)
    return y if bias is None else y + bias


def lora_linear_backward_reference(grad: torch.Tensor, x: torch.Tensor, weight: torch.Tensor,
                                   lora_a: torch.Tensor, lora_b: torch.Tensor, scale: float):
    """Gradients of lora_linear for x, A, B and the bias (W is frozen: none for it).

    With g = dL/dy (M, N) and x (M, K) flattened over the leading dims:
        dx = g W + scale * (g B) A      dA = scale * (g B)^T x
        dB = scale * g^T (x A^T)        db = sum over rows of g

    Returns:
        (grad_x (..., K), grad_a (r, K), grad_b (N, r), grad_bias (N,)).
    """
    g2 = grad.reshape(-1, grad.shape[-1])  # (M, N)
    x2 = x.reshape(-1, x.shape[-1])        # (M, K)
    gb = g2 @ lora_b                       # (M, r)
    grad_x = g2 @ weight + scale * (gb @ lora_a)
    grad_a = scale * (gb.t() @ x2)
    grad_b = scale * (g2.t() @ (x2 @ lora_a.t()))
    return grad_x.reshape(x.shape), grad_a, grad_b, g2.sum(0)


class LoRALinear(nn.Module):
    """A frozen nn.Linear plus a trainable low-rank update, readable version.

    Args:
        base: the pretrained layer; its weight and bias are frozen here.
        r: rank of the update (1 <= r <= min(in, out)).
        alpha: the update is scaled by alpha / r, so changing r keeps the step size.
        dropout: dropout probability on the LoRA path's input only.

    Example:
        >>> import torch
        >>> layer = LoRALinear(torch.nn.Linear(8, 4), r=2, alpha=4)
        >>> x = torch.randn(3, 8)
        >>> torch.allclose(layer(x), layer.base(x))  # B starts at zero
        True
    """

    def __init__(self, base: nn.Linear, r: int, alpha: float = 1.0, dropout: float = 0.0):
        super().__init__()
        n, k = base.weight.shape
        check_rank(r, k, n)
        self.base, self.r, self.scale = base, r, alpha / r
        base.requires_grad_(False)
        w = base.weight
        self.lora_a = nn.Parameter(torch.empty(r, k, dtype=w.dtype, device=w.device))
        self.lora_b = nn.Parameter(torch.zeros(n, r, dtype=w.dtype, device=w.device))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))  # nn.Linear's own init
        self.dropout = nn.Dropout(dropout)
        self.merged = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.base(x)
        if self.merged:
            return y
        return y + self.scale * (self.dropout(x) @ self.lora_a.t() @ self.lora_b.t())

    def delta_weight(self) -> torch.Tensor:
        """scale * B A, (N, K): what merging adds to the base weight."""
        return self.scale * (self.lora_b @ self.lora_a)

    @torch.no_grad()
    def merge(self) -> None:
        """Fold the update into the base weight: one matmul at inference."""
        if not self.merged:
            self.base.weight += self.delta_weight()
            self.merged = True

    @torch.no_grad()
    def unmerge(self) -> None:
        """Take the update back out of the base weight (to keep training)."""
        if self.merged:
            self.base.weight -= self.delta_weight()
            self.merged = False


def check_rank(r: int, in_features: int, out_features: int) -> None:
    """Raise ValueError unless 1 <= r <= min(in_features, out_features)."""
    if not isinstance(r, int) or isinstance(r, bool) or not 1 <= r <= min(in_features,
                                                                            out_features):
        raise ValueError(f"r: expected an int in [1, min(in, out)] = [1, "
                         f"{min(in_features, out_features)}] for a layer of in={in_features}, "
                         f"out={out_features}; got {r!r}")


class PromptTuning(nn.Module):
    """P trainable virtual token embeddings, prepended to a sequence of embeddings.

    Args:
        num_virtual_tokens: P.
        hidden: C, the model's embedding size.
        init: optional (P, C) starting values (e.g. embeddings of real words).

    Example:
        >>> import torch
        >>> prompt = PromptTuning(3, 8)
        >>> emb, mask = prompt(torch.randn(2, 5, 8), torch.ones(2, 5))
        >>> tuple(emb.shape), tuple(mask.shape)
        ((2, 8, 8), (2, 8))
    """

    def __init__(self, num_virtual_tokens: int, hidden: int, init: torch.Tensor | None = None):
        super().__init__()
        if num_virtual_tokens < 1:
            raise ValueError(f"num_virtual_tokens: expected >= 1, got {num_virtual_tokens}")
        start = init.detach().clone() if init is not None else torch.randn(
            num_virtual_tokens, hidden) * 0.02
        self.prompt = nn.Parameter(start)  # (P, C)

    def forward(self, embeds: torch.Tensor, attention_mask: torch.Tensor):
        """(B, T, C), (B, T) -> (B, P + T, C), (B, P + T)."""
        b = embeds.shape[0]
        prompt = self.prompt.to(embeds.dtype).unsqueeze(0).expand(b, -1, -1)  # (B, P, C)
        ones = attention_mask.new_ones(b, self.prompt.shape[0])
        return torch.cat([prompt, embeds], 1), torch.cat([ones, attention_mask], 1)


def prefix_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                     prefix_k: torch.Tensor, prefix_v: torch.Tensor) -> torch.Tensor:
    """Softmax attention whose keys and values start with P learned prefix entries.

    Args:
        q, k, v: (B, H, T, D).
        prefix_k, prefix_v: (H, P, D), shared across the batch.

    Returns:
        (B, H, T, D); every query also attends to the P prefix positions.
    """
    b = q.shape[0]
    k = torch.cat([prefix_k.unsqueeze(0).expand(b, -1, -1, -1), k], 2)  # (B, H, P + T, D)
    v = torch.cat([prefix_v.unsqueeze(0).expand(b, -1, -1, -1), v], 2)
    att = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])          # (B, H, T, P + T)
    return torch.softmax(att, dim=-1) @ v


class PrefixTuning(nn.Module):
    """Learned key/value prefixes for L attention layers, reparameterized by an MLP.

    Li & Liang train the prefixes through a small MLP (more stable than training
    them directly); after training only the MLP's output needs keeping.

    Args:
        num_layers: L.
        num_heads: H.
        head_dim: D.
        prefix_len: P.
        bottleneck: width of the reparameterizing MLP.

    Example:
        >>> prefix = PrefixTuning(2, 4, 8, prefix_len=3)
        >>> k, v = prefix()[0]
        >>> tuple(k.shape)
        (4, 3, 8)
    """

    def __init__(self, num_layers: int, num_heads: int, head_dim: int, prefix_len: int = 8,
                 bottleneck: int = 64):
        super().__init__()
        self.shape = (num_layers, 2, num_heads, prefix_len, head_dim)
        c = num_heads * head_dim
        self.tokens = nn.Parameter(torch.randn(prefix_len, c) * 0.02)  # (P, C)
        self.mlp = nn.Sequential(nn.Linear(c, bottleneck), nn.Tanh(),
                                 nn.Linear(bottleneck, num_layers * 2 * c))

    def forward(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """One (prefix_k, prefix_v) pair per layer, each (H, P, D)."""
        layers, _, h, p, d = self.shape
        kv = self.mlp(self.tokens).view(p, layers, 2, h, d)  # (P, L, 2, H, D)
        kv = kv.permute(1, 2, 3, 0, 4)                       # (L, 2, H, P, D)
        return [(kv[i, 0], kv[i, 1]) for i in range(layers)]
