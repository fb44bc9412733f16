"""The two backends behind `BPETokenizer`: training and chunk encoding, reference or C++.

`hubkit._C.bpe_train` learns the same merges as `reference.train_merges`, with
incremental pair counts and a priority queue; it counts unique chunks on
several threads with the GIL released. `hubkit._C.BPEEncoder` encodes a list
of chunks on several threads. Arguments are checked by the caller
(`hubkit.tokenizers.tokenizer`) before anything here runs.

Shape legend: N chunks.
"""

from __future__ import annotations

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


def train(chunks: list[str], num_merges: int, backend: str) -> list[reference.Pair]:
    """Merges learned from the chunks (N,) of the training text, in order."""
    if backend == "cpp":
        pairs = _ext.cpp_module().bpe_train(chunks, num_merges, default_threads())
        return [tuple(p) for p in pairs]
    counts = Counter(chunk.encode("utf-8") for chunk in chunks)
    return reference.train_merges(counts, num_merges)


class ReferenceEncoder:
    """Encodes chunks with `reference.encode_chunk`, remembering chunks already seen."""

    def __init__(self, merges: list[reference.Pair]) -> None:
        self.ranks = {pair: i for i, pair in enumerate(merges)}
        self.cache: dict[str, list[int]] = {}

    def encode(self, chunks: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Flat ids of all chunks, and offsets (N + 1,) where chunk i's ids start."""
        ids, offsets = [], [0]
        for chunk in chunks:
            if chunk not in self.cache:
                self.cache[chunk] = reference.encode_chunk(chunk.encode("utf-8"), self.ranks)
            ids.extend(self.cache[chunk])
            offsets.append(len(ids))
        return np.asarray(ids, dtype=np.int32), np.asarray(offsets, dtype=np.int64)


class CppEncoder:
    """Encodes chunks on several threads in C++ (GIL released)."""

    def __init__(self, merges: list[reference.Pair]) -> None:
        self.core = _ext.cpp_module().BPEEncoder(merges)
        self.threads = default_threads()

    def encode(self, chunks: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Flat ids of all chunks, and offsets (N + 1,) where chunk i's ids start."""
        return self.core.encode(chunks, self.threads)


def encoder(merges: list[reference.Pair], backend: str):
    """The chunk encoder for `backend`."""
    return CppEncoder(merges) if backend == "cpp" else ReferenceEncoder(merges)
