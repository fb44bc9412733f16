"""The two backends behind `BPETokenizer`: training and chunk encoding, reference or C++.

`hubkit._C.bpe_train` learns the same merges as `reference.train_merges`, with
incremental pair counts and a priority queue; it counts unique chunks on
several threads with the GIL released. `hubkit._C.BPEEncoder` encodes a list
of chunks on several threads. Arguments are checked by the caller
(`hubkit.tokenizers.tokenizer`) before anything here runs.

Shape legend: N chunks.
"""

from __future__ import annotations

import functools
import os
from collections import Counter

import numpy as np

from hubkit import _backend, _ext
from hubkit.tokenizers import reference

SPEC = _backend.OpBackends("BPETokenizer", cpu=("cpp", "reference"), cuda=())


def resolve(backend: str | None) -> str:
    """"cpp" when hubkit._C is built (or asked for), else "reference"; raises if unavailable."""
    import torch  # _backend speaks torch devices

    stale = _ext.cpp_module() is not None and not hasattr(_ext.cpp_module(), "bpe_train")
    if stale and backend is None:
        return "reference"  # a hubkit._C built before csrc/bpe existed: cpp lacks this op
    if stale and backend == "cpp":
        raise _backend.BackendUnavailableError(
            "backend: hubkit._C was built without csrc/bpe; reinstall hubkit to rebuild it")
    return _backend.resolve(SPEC, torch.device("cpu"), backend)


def default_threads() -> int:
    """Threads for the C++ backend: the CPUs this process may use."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else (os.cpu_count() or 1))


@functools.cache
def unicode_classes() -> np.ndarray:
    """(0x110000,) uint8: bit 1 \\p{L}, 2 \\p{N}, 4 \\s, for every code point, as `regex` sees them.

    Built once per process (~0.3 s) so that the C++ split agrees with `regex` exactly.
    """
    import regex

    everything = "".join(map(chr, range(0x110000)))
    table = np.zeros(0x110000, dtype=np.uint8)
    for bit, cls in ((1, r"\p{L}+"), (2, r"\p{N}+"), (4, r"\s+")):
        for m in regex.finditer(cls, everything):
            table[m.start():m.end()] |= bit
    return table


@functools.cache
def pretokenizer(pattern: str):
    """hubkit._C's hand-written split for the GPT-2 or GPT-4 pattern, else None (use regex)."""
    kind = {reference.GPT2_PATTERN: 2, reference.GPT4_PATTERN: 4}.get(pattern)
    module = _ext.cpp_module()
    if kind is None or module is None or not hasattr(module, "BPEPretokenizer"):
        return None
    return module.BPEPretokenizer(unicode_classes(), kind)


def train_texts(texts: list[str], pattern: str, num_merges: int,
                backend: str) -> list[reference.Pair] | None:
    """Merges learned from `texts` split in C++, or None when that path does not apply."""
    pre = pretokenizer(pattern) if backend == "cpp" else None
    if pre is None:
        return None
    pairs = _ext.cpp_module().bpe_train_texts(pre, texts, num_merges, default_threads())
    return [tuple(p) for p in pairs]


def train(chunks: list[str], num_merges: int, backend: str) -> list[reference.Pair]:
    """Merges learned from the chunks (N,) of the training text, in order."""
    if backend == "cpp":
        pairs = _ext.cpp_module().bpe_train(chunks, num_merges, default_threads())
        return [tuple(p) for p in pairs]
    counts = Counter(chunk.encode("utf-8") for chunk in chunks)
    return reference.train_merges(counts, num_merges)


class ReferenceEncoder:
    """Encodes texts with `reference.encode_chunk`, remembering chunks already seen."""

    def __init__(self, merges: list[reference.Pair], pattern: str) -> None:
        self.ranks = {pair: i for i, pair in enumerate(merges)}
        self.regex = reference.compile_pattern(pattern)
        self.cache: dict[str, list[int]] = {}

    def encode_texts(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Flat ids of all texts (T,), and offsets (T + 1,) where text t's ids start."""
        ids, offsets = [], [0]
        for text in texts:
            for chunk in self.regex.findall(text):
                if chunk not in self.cache:
                    self.cache[chunk] = reference.encode_chunk(chunk.encode("utf-8"), self.ranks)
                ids.extend(self.cache[chunk])
            offsets.append(len(ids))
        return np.asarray(ids, dtype=np.int32), np.asarray(offsets, dtype=np.int64)


class CppEncoder:
    """Encodes texts on several threads in C++ (GIL released); GPT-2/GPT-4 split in C++ too."""

    def __init__(self, merges: list[reference.Pair], pattern: str) -> None:
        self.core = _ext.cpp_module().BPEEncoder(merges)
        self.pre = pretokenizer(pattern)
        self.regex = reference.compile_pattern(pattern)
        self.threads = default_threads()

    def encode_texts(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Flat ids of all texts (T,), and offsets (T + 1,) where text t's ids start."""
        if self.pre is not None:
            return self.core.encode_texts(self.pre, texts, self.threads)
        per_text = [self.regex.findall(text) for text in texts]
        ids, chunk_offsets = self.core.encode([c for chunks in per_text for c in chunks],
                                              self.threads)
        starts = np.cumsum([0] + [len(chunks) for chunks in per_text])
        return ids, chunk_offsets[starts]


def encoder(merges: list[reference.Pair], pattern: str, backend: str):
    """The text encoder for `backend`."""
    cls = CppEncoder if backend == "cpp" else ReferenceEncoder
    return cls(merges, pattern)
