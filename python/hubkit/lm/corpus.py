"""Documents -> token ids: a hubkit BPE tokenizer trained on the corpus, and the id streams.

`prepare_tokens` runs the work on rank 0 and hands the result to the other
processes with torch.distributed's broadcast, so N processes train on the same
tokens without each training its own tokenizer.

Shapes: N tokens in a stream.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from hubkit.lm import distributed as dist_utils
from hubkit.lm.data import split_documents
from hubkit.tokenizers import BPETokenizer

EOT = "<|endoftext|>"
"""Special token between documents (as GPT-2's)."""
MASK = "<|mask|>"
"""Special token that hides a token from a masked language model (BERT's [MASK])."""


@dataclass
class TokenData:
    """The tokenizer and the training and validation id streams, (N,) long each."""

    tokenizer: BPETokenizer
    train: torch.Tensor
    val: torch.Tensor

    def sizes(self) -> dict:
        return {"vocab_size": self.tokenizer.vocab_size, "train_tokens": len(self.train),
                "val_tokens": len(self.val)}


def tokenizer_from_state(state: dict) -> BPETokenizer:
    """A BPETokenizer from its `state_dict()` (through its own JSON loader)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tokenizer.json"
        path.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        return BPETokenizer.load(path)


def encode_stream(tok: BPETokenizer, texts: list[str]) -> torch.Tensor:
    """All texts as one (N,) id stream, each text followed by the end-of-text token."""
    eot = tok.special_tokens[EOT]
    ids = [np.append(np.asarray(t, dtype=np.int64), eot) for t in tok.encode_batch(texts)]
    return torch.from_numpy(np.concatenate(ids))


def _build(docs, vocab_size: int, tokenizer_chars: int, state: dict | None,
           specials: tuple[str, ...]) -> TokenData:
    train_texts, val_texts = split_documents(docs)
    if state is not None:
        tok = tokenizer_from_state(state)
    else:
        sample = "\n\n".join(train_texts)[:tokenizer_chars]
        tok = BPETokenizer().train(sample, vocab_size, [EOT, *specials])
    return TokenData(tok, encode_stream(tok, train_texts), encode_stream(tok, val_texts))


def prepare_tokens(docs: list[tuple[str, str]] | None, vocab_size: int, tokenizer_chars: int,
                   world: dist_utils.World | None = None,
                   state: dict | None = None, specials: tuple[str, ...] = ()) -> TokenData:
    """Train (or, from `state`, rebuild) the tokenizer and encode train/validation.

    Args:
        docs: (name, text) pairs from hubkit.lm.data.load_documents (rank 0 only).
        vocab_size: BPE vocabulary size (bytes + merges + the end-of-text token).
        tokenizer_chars: characters of training text the merges are learned from.
        world: the process group (None: one process).
        state: a saved tokenizer's state_dict, to reuse instead of training.
        specials: special tokens besides EOT (e.g. MASK for a masked LM).
    """
    world = world or dist_utils.World()
    payload = [None]
    if world.main:
        data = _build(docs, vocab_size, tokenizer_chars, state, specials)
        payload = [(data.tokenizer.state_dict(), data.train, data.val)]
    tok_state, train, val = dist_utils.broadcast(payload, world)[0]
    return TokenData(tokenizer_from_state(tok_state), train, val)
