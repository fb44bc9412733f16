"""The translation track's data: number words <-> digits, a TSV loader, vocabularies, padding.

The corpus is synthetic and made here: English number words and their digits
("three thousand forty two" <-> "3042") for 0..9999. `load_tsv_pairs` reads the
common tab-separated parallel-corpus format (one "source<TAB>target" pair a
line, as Tatoeba / ManyThings exports) for users with real data.

Shapes: B batch, T length.
"""

from __future__ import annotations

import random
from pathlib import Path

import torch

PAD, BOS, EOS = 0, 1, 2
SPECIALS = ("<pad>", "<bos>", "<eos>")
_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
         "fourteen fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


# ---------------------------------------------------------------- data


def number_words(n: int) -> str:
    """English words for 0 <= n < 1_000_000, e.g. 3042 -> 'three thousand forty two'."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = "" if n % 100 == 0 else " " + number_words(n % 100)
        return f"{_ONES[n // 100]} hundred{rest}"
    rest = "" if n % 1000 == 0 else " " + number_words(n % 1000)
    return f"{number_words(n // 1000)} thousand{rest}"


def number_pairs(max_number: int = 9999, direction: str = "words2digits") -> list[tuple[str, str]]:
    """(source, target) pairs for every number in 0..max_number."""
    pairs = [(number_words(n), str(n)) for n in range(max_number + 1)]
    if direction == "digits2words":
        return [(t, s) for s, t in pairs]
    if direction != "words2digits":
        raise ValueError(f"direction: expected 'words2digits' or 'digits2words', got {direction!r}")
    return pairs


def load_tsv_pairs(path: str | Path, max_pairs: int | None = None) -> list[tuple[str, str]]:
    """Read a tab-separated parallel corpus: 'source<TAB>target[<TAB>anything]' per line.

    Blank lines and lines starting with '#' are skipped; extra columns (such as
    Tatoeba's attribution) are ignored.

    Raises:
        ValueError: naming the file and line when a line has fewer than two columns.
    """
    pairs = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            line = line.rstrip("\n\r")
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) < 2:
                raise ValueError(f"path: {path}:{i}: expected 'source<TAB>target', got {line!r}")
            pairs.append((cols[0].strip(), cols[1].strip()))
            if max_pairs is not None and len(pairs) >= max_pairs:
                break
    return pairs


class Vocab:
    """Token <-> id map with <pad>=0, <bos>=1, <eos>=2 first.

    Args:
        tokens: every token seen.
        level: "word" (split on spaces) or "char" (every character a token).
    """

    def __init__(self, tokens: list[str], level: str = "word") -> None:
        self.level = level
        self.itos = list(SPECIALS) + sorted(set(tokens) - set(SPECIALS))
        self.stoi = {t: i for i, t in enumerate(self.itos)}

    @classmethod
    def build(cls, texts: list[str]) -> Vocab:
        """Word level when any text has a space ('three thousand'), else characters ('3042')."""
        level = "word" if any(" " in t.strip() for t in texts) else "char"
        vocab = cls([], level)
        return cls([tok for text in texts for tok in vocab.tokenize(text)], level)

    def __len__(self) -> int:
        return len(self.itos)

    def tokenize(self, text: str) -> list[str]:
        return text.split() if self.level == "word" else list(text.strip())

    def encode(self, text: str) -> list[int]:
        return [BOS] + [self.stoi[t] for t in self.tokenize(text)] + [EOS]

    def decode(self, ids: list[int]) -> str:
        toks = [self.itos[i] for i in ids if i not in (PAD, BOS)]
        toks = toks[: toks.index("<eos>")] if "<eos>" in toks else toks
        return (" " if self.level == "word" else "").join(toks)


def pad_batch(seqs: list[list[int]]) -> torch.Tensor:
    """(B, T) long tensor, right-padded with PAD."""
    t = max(len(s) for s in seqs)
    return torch.tensor([s + [PAD] * (t - len(s)) for s in seqs], dtype=torch.long)


def split_pairs(pairs, n_test: int, seed: int):
    """Shuffle with a seed and hold out n_test pairs (never seen in training)."""
    pairs = list(pairs)
    random.Random(seed).shuffle(pairs)
    return pairs[n_test:], pairs[:n_test]


# ---------------------------------------------------------------- model
