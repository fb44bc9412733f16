"""`BPETokenizer`: train, encode, decode, save and load a byte-level BPE tokenizer.

The class holds the state (split pattern, merges, special tokens) and checks
every argument; the work is done by a backend (`hubkit.tokenizers.ops`): the
readable reference or C++. Both learn identical merges and give identical ids.

Ids: 0..255 are the bytes, 256 + i is merge i, then the special tokens in the
order given to `train`.

Example:
    >>> tok = BPETokenizer(pattern="gpt2", backend="reference")
    >>> tok = tok.train("low lower lowest " * 20, vocab_size=260, special_tokens=["<|eos|>"])
    >>> tok.merges[:2], tok.vocab_size
    ([((108, 111), 256), ((256, 119), 257)], 260)
    >>> ids = tok.encode("lowest<|eos|>", allowed_special="all")
    >>> tok.decode(ids)
    'lowest<|eos|>'
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from hubkit.tokenizers import ops, reference

FORMAT = "hubkit-bpe"


def _check_text(text, name: str = "text") -> str:
    if not isinstance(text, str):
        raise ValueError(f"{name}: expected a str, got {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ValueError(f"{name}: not encodable as UTF-8 (a lone surrogate at index "
                         f"{err.start}?)") from None
    return text


def _check_specials(special_tokens) -> list[str]:
    specials = list(special_tokens or [])
    for tok in specials:
        if not isinstance(tok, str) or not tok:
            raise ValueError(f"special_tokens: each must be a non-empty str, got {tok!r}")
    if len(set(specials)) != len(specials):
        raise ValueError(f"special_tokens: duplicates in {specials}")
    return specials


def _resolve_pattern(pattern: str) -> str:
    if not isinstance(pattern, str) or not pattern:
        raise ValueError(f"pattern: expected 'gpt2', 'gpt4' or a regex str, got {pattern!r}")
    return reference.PATTERNS.get(pattern, pattern)


class BPETokenizer:
    """Byte-level BPE with a GPT-2 or GPT-4 style split pattern and special tokens.

    Args:
        pattern: "gpt4" (default, cl100k_base's), "gpt2", or any regex for the
            `regex` module; chunks it finds are never merged across.
        backend: "cpp" or "reference"; None picks C++ when hubkit._C is built.
    """

    def __init__(self, pattern: str = "gpt4", backend: str | None = None) -> None:
        self.pattern = _resolve_pattern(pattern)
        self._regex = reference.compile_pattern(self.pattern)
        self.backend = ops.resolve(backend)
        self.special_tokens: dict[str, int] = {}
        self._set_merges([])

    def __repr__(self) -> str:
        return (f"BPETokenizer(vocab_size={self.vocab_size}, merges={len(self._merges)}, "
                f"special_tokens={len(self.special_tokens)}, backend={self.backend!r})")

    def _set_merges(self, merges: list[reference.Pair]) -> None:
        self._merges = [tuple(p) for p in merges]
        self.vocab = reference.vocab_bytes(self._merges)  # (V - specials,) bytes of every id
        self._encoder = ops.encoder(self._merges, self.pattern, self.backend)

    @property
    def merges(self) -> list[tuple[reference.Pair, int]]:
        """The merges in order: ((id_a, id_b), new_id)."""
        return [(pair, 256 + i) for i, pair in enumerate(self._merges)]

    @property
    def vocab_size(self) -> int:
        """Bytes + merges + special tokens."""
        return len(self.vocab) + len(self.special_tokens)

    def train(self, text: str, vocab_size: int,
              special_tokens: Sequence[str] | None = None) -> BPETokenizer:
        """Learn vocab_size - 256 - len(special_tokens) merges from `text`; returns self.

        Special tokens in `text` are cut out before splitting, so no merge spans
        one. Training stops early if no adjacent pair is left.
        """
        text = _check_text(text)
        specials = _check_specials(special_tokens)
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int):
            raise ValueError(f"vocab_size: expected an int, got {type(vocab_size).__name__}")
        if vocab_size < 256 + len(specials):
            raise ValueError(f"vocab_size: must be at least 256 bytes + {len(specials)} special "
                             f"tokens = {256 + len(specials)}, got {vocab_size}")
        pieces = self._split_specials(text, specials)[::2]  # odd indices: the special tokens
        num_merges = vocab_size - 256 - len(specials)
        merges = ops.train_texts(pieces, self.pattern, num_merges, self.backend)
        if merges is None:  # no C++ split for this pattern: split with regex here
            chunks = [c for piece in pieces for c in self._chunks(piece)]
            merges = ops.train(chunks, num_merges, self.backend)
        self._set_merges(merges)
        self.special_tokens = {tok: len(self.vocab) + i for i, tok in enumerate(specials)}
        return self

    def _chunks(self, text: str) -> list[str]:
        return self._regex.findall(text)

    @staticmethod
    def _split_specials(text: str, specials: Iterable[str]) -> list[str]:
        """`text` cut at each special token (kept, at odd indices)."""
        specials = sorted(specials, key=len, reverse=True)  # longest first: "<a><b>" vs "<a>"
        if not specials:
            return [text]
        import regex

        return regex.split("(" + "|".join(regex.escape(s) for s in specials) + ")", text)

    def _allowed(self, allowed_special, disallowed_special, text: str) -> set[str]:
        """The special tokens to encode as such; raises if a disallowed one occurs in `text`."""
        allowed = self._special_set(allowed_special, "allowed_special")
        disallowed = (set(self.special_tokens) - allowed if disallowed_special == "all"
                      else self._special_set(disallowed_special, "disallowed_special"))
        for tok in disallowed:
            if tok in text:
                raise ValueError(
                    f"text: contains the special token {tok!r}, which disallowed_special "
                    f"forbids; pass allowed_special={{{tok!r}}} to encode it as one token, or "
                    "disallowed_special=() to encode it as ordinary text")
        return allowed

    def _special_set(self, value, name: str) -> set[str]:
        if value == "all":
            return set(self.special_tokens)
        if isinstance(value, str):
            raise ValueError(f"{name}: expected 'all' or a set of special tokens, got {value!r}")
        unknown = set(value) - set(self.special_tokens)
        if unknown:
            raise ValueError(f"{name}: not special tokens of this tokenizer: {sorted(unknown)}")
        return set(value)

    def encode_ordinary(self, text: str) -> list[int]:
        """Token ids of `text`, special tokens treated as ordinary text."""
        ids, _ = self._encoder.encode_texts([_check_text(text)])
        return ids.tolist()

    def encode(self, text: str, *, allowed_special=frozenset(),
               disallowed_special="all") -> list[int]:
        """Token ids of `text`, with tiktoken's policy for special tokens.

        Args:
            allowed_special: "all" or a set of special tokens to encode as one id.
            disallowed_special: "all" (every special token not allowed) or a set;
                a disallowed special token found in `text` raises ValueError.
                Pass () to encode such text as ordinary bytes.
        """
        _check_text(text)
        allowed = self._allowed(allowed_special, disallowed_special, text)
        if not allowed:
            return self.encode_ordinary(text)
        ids: list[int] = []
        for i, piece in enumerate(self._split_specials(text, allowed)):
            ids.extend([self.special_tokens[piece]] if i % 2 else self.encode_ordinary(piece))
        return ids

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        """Ids of each text (special tokens as ordinary text); one backend call for all."""
        if isinstance(texts, str) or not isinstance(texts, Sequence):
            raise ValueError(f"texts: expected a list of str, got {type(texts).__name__}")
        texts = [_check_text(t, f"texts[{i}]") for i, t in enumerate(texts)]
        ids, offsets = self._encoder.encode_texts(texts)
        return [ids[offsets[i]:offsets[i + 1]].tolist() for i in range(len(texts))]

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        """The bytes that `ids` stand for (special tokens as their UTF-8 text)."""
        ids = list(ids)
        n, inverse = len(self.vocab), {i: t for t, i in self.special_tokens.items()}
        for i in ids:
            if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < self.vocab_size:
                raise ValueError(f"ids: {i!r} is not a token id in [0, {self.vocab_size})")
        return b"".join(self.vocab[i] if i < n else inverse[i].encode("utf-8") for i in ids)

    def decode(self, ids: Iterable[int], errors: str = "replace") -> str:
        """Text of `ids`; bytes that are not valid UTF-8 become U+FFFD (as tiktoken does)."""
        return self.decode_bytes(ids).decode("utf-8", errors=errors)

    def state_dict(self) -> dict:
        """Everything that defines the tokenizer, as JSON-ready values."""
        return {"format": FORMAT, "version": 1, "pattern": self.pattern,
                "merges": [list(p) for p in self._merges], "special_tokens": self.special_tokens}

    def save(self, path: str | os.PathLike) -> Path:
        """Write the tokenizer as JSON to `path`; returns the path."""
        path = Path(path)
        path.write_text(json.dumps(self.state_dict(), ensure_ascii=False))
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, backend: str | None = None) -> BPETokenizer:
        """A tokenizer written by `save`."""
        state = json.loads(Path(path).read_text())
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            raise ValueError(f"path: {path} is not a {FORMAT} file")
        tok = cls(pattern=state["pattern"], backend=backend)
        merges = [tuple(p) for p in state["merges"]]
        for i, (a, b) in enumerate(merges):
            if not (0 <= a < 256 + i and 0 <= b < 256 + i):
                raise ValueError(f"path: merge {i} ({a}, {b}) refers to a later id")
        tok._set_merges(merges)
        tok.special_tokens = dict(state["special_tokens"])
        return tok

    def to_tiktoken(self, name: str = "hubkit"):
        """A `tiktoken.Encoding` with the same ranks, pattern and special tokens."""
        from hubkit.tokenizers.interop import to_tiktoken

        return to_tiktoken(self, name)

    def to_huggingface(self, path: str | os.PathLike) -> Path:
        """Write a Hugging Face `tokenizers` JSON (for PreTrainedTokenizerFast) to `path`."""
        from hubkit.tokenizers.interop import to_huggingface

        return to_huggingface(self, path)
