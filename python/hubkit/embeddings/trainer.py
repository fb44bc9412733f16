"""Train word2vec on a `Corpus`: the NumPy reference or the C++ trainer, chunk by chunk.

Both backends run the same algorithm (`hubkit.embeddings.word2vec`); the C++
one (`csrc/word2vec/`) runs `cfg.threads` threads of lock-free SGD over shared
weights (Hogwild, as word2vec.c) and releases the GIL. With one thread it
makes the reference's updates, in the same order, with the same random draws
(equal up to float32 rounding, tests/embeddings/test_word2vec_cpp.py); with
more threads the result depends on the threads' timing.

The corpus is trained in chunks of about `chunk_words` tokens so the caller
can show progress; the learning rate follows each token's place in the whole
run, so chunking changes nothing but the progress line.

Example:
    >>> from hubkit.embeddings import corpus, word2vec
    >>> c = corpus.build([["a", "list", "of", "words"]] * 20, min_count=1)
    >>> cfg = word2vec.Word2VecConfig(dim=8, epochs=2, table_size=1000, threads=1)
    >>> model = train(c, cfg, backend="reference")
    >>> model.w_in.shape, model.words == c.words
    ((4, 8), True)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from hubkit import _backend, _ext
from hubkit.embeddings import word2vec as ref
from hubkit.embeddings.corpus import Corpus

BACKENDS = ("reference", "cpp")


@dataclass
class Word2VecModel:
    """Trained vectors: w_in (V, D) are the embeddings; w_out (V, D) the output vectors."""

    words: list[str]
    w_in: np.ndarray
    w_out: np.ndarray
    history: list[dict] = field(default_factory=list)
    """One record per chunk: epoch, words done, loss per example, learning rate, words/s."""


@dataclass
class _State:
    """Everything a chunk step reads or updates, prepared once."""

    corpus: Corpus
    cfg: ref.Word2VecConfig
    keep: np.ndarray
    table: np.ndarray
    w_in: np.ndarray
    w_out: np.ndarray
    rng: np.ndarray  # uint64 (threads,): one generator state per thread
    backend: str
    compute_loss: bool = True


def _cpp_module():
    """hubkit._C, or a clear error when it is missing or predates csrc/word2vec."""
    module = _ext.cpp_module()
    if module is None or not hasattr(module, "word2vec_train"):
        why = _ext.load_error("_C") or "hubkit._C was built without csrc/word2vec"
        raise _backend.BackendUnavailableError(
            f"backend: 'cpp' is not available ({why}); reinstall hubkit with a C++ compiler "
            "to build it, or use backend='reference'")
    return module


def prepare(corpus: Corpus, cfg: ref.Word2VecConfig, backend: str = "cpp",
            compute_loss: bool = True) -> _State:
    """Check the corpus and settings, build the tables and the initial vectors."""
    if backend not in BACKENDS:
        raise ValueError(f"backend: must be one of {BACKENDS}, got {backend!r}")
    _check_corpus(corpus)
    cfg.validate()  # again: a dataclass's fields can change after it was made
    threads = cfg.threads if backend == "cpp" else 1
    w_in, w_out = ref.init_vectors(len(corpus.words), cfg.dim, cfg.seed)
    # thread t starts from seed + t; one thread starts where the reference does
    rng = np.array([cfg.seed + t for t in range(threads)], dtype=np.uint64)
    return _State(corpus, cfg, ref.keep_probabilities(corpus.counts, cfg.sample),
                  ref.noise_table(corpus.counts, cfg.table_size, cfg.ns_exponent),
                  w_in, w_out, rng, backend, compute_loss)


def _check_corpus(c: Corpus) -> None:
    """Everything the C++ code trusts: dtypes, contiguity, id range, offsets."""
    v = len(c.words)
    for name, arr, dtype in (("ids", c.ids, np.int32), ("offsets", c.offsets, np.int64),
                             ("counts", c.counts, np.int64)):
        if not isinstance(arr, np.ndarray) or arr.dtype != dtype or arr.ndim != 1:
            raise TypeError(f"corpus.{name}: expected a 1-D {np.dtype(dtype)} array")
        if not arr.flags.c_contiguous:
            raise ValueError(f"corpus.{name}: must be contiguous")
    if v == 0 or len(c.counts) != v or (c.counts <= 0).any():
        raise ValueError(f"corpus.counts: need {v} positive counts (one per word), "
                         f"got {len(c.counts)}")
    if len(c.ids) and (c.ids.min() < 0 or c.ids.max() >= v):
        raise ValueError(f"corpus.ids: word ids must lie in [0, {v}), got "
                         f"[{c.ids.min()}, {c.ids.max()}]")
    off = c.offsets
    if len(off) < 1 or off[0] != 0 or off[-1] != len(c.ids) or (np.diff(off) < 0).any():
        raise ValueError("corpus.offsets: must rise from 0 to len(ids)")


def _addr(a: np.ndarray) -> int:
    return a.ctypes.data


def step_cpp(st: _State, sentences: range, sched: ref.Schedule) -> tuple[float, int, int]:
    """Train sentences[first:last] in C++ (threads, GIL released): (loss sum, examples, words)."""
    c, cfg = st.corpus, st.cfg
    if not 0 <= sentences.start <= sentences.stop <= len(c.offsets) - 1 or sentences.step != 1:
        raise ValueError(f"sentences: need a range within 0..{len(c.offsets) - 1} with step 1, "
                         f"got {sentences}")
    return _cpp_module().word2vec_train(
        _addr(c.ids), _addr(c.offsets), sentences.start, sentences.stop, _addr(st.keep),
        _addr(st.table), len(st.table), _addr(st.w_in), _addr(st.w_out), cfg.dim,
        _addr(st.rng), len(st.rng), cfg.mode == "cbow", cfg.window, cfg.negative, cfg.alpha,
        cfg.min_alpha, sched.base, sched.total, st.compute_loss)


def step_reference(st: _State, sentences: range, sched: ref.Schedule) -> tuple[float, int, int]:
    """Train sentences[first:last] with the NumPy reference (one thread)."""
    gen = ref.LCG(int(st.rng[0]))
    out = ref.train_chunk(st.w_in, st.w_out, st.corpus.ids, st.corpus.offsets, st.keep,
                          st.table, st.cfg, sched, gen, sentences)
    st.rng[0] = gen.state
    return out


def chunks(offsets: np.ndarray, chunk_words: int) -> list[range]:
    """Consecutive sentence ranges of about `chunk_words` tokens each (at least one sentence).

    Example:
        >>> chunks(np.array([0, 3, 5, 9, 10]), 4)
        [range(0, 2), range(2, 3), range(3, 4)]
    """
    out, first = [], 0
    n = len(offsets) - 1
    while first < n:
        last = int(np.searchsorted(offsets, offsets[first] + chunk_words, side="left"))
        last = min(max(last, first + 1), n)
        out.append(range(first, last))
        first = last
    return out


def train(corpus: Corpus, cfg: ref.Word2VecConfig, backend: str = "cpp",
          on_chunk: Callable[[dict], None] | None = None,
          chunk_words: int = 200_000) -> Word2VecModel:
    """Train word2vec; `on_chunk(record)` is called after each chunk (progress, logging)."""
    return run(prepare(corpus, cfg, backend), on_chunk, chunk_words)


def run(st: _State, on_chunk: Callable[[dict], None] | None = None,
        chunk_words: int = 200_000) -> Word2VecModel:
    """The training loop over epochs and chunks, from a prepared state (updated in place)."""
    corpus, cfg = st.corpus, st.cfg
    step = step_cpp if st.backend == "cpp" else step_reference
    n = len(corpus.ids)
    total = max(cfg.epochs * n, 1)
    history, start = [], time.monotonic()
    for epoch in range(cfg.epochs):
        sched = ref.Schedule(cfg.alpha, cfg.min_alpha, epoch * n, total)
        for sentences in chunks(corpus.offsets, chunk_words):
            loss, examples, _ = step(st, sentences, sched)
            done = epoch * n + int(corpus.offsets[sentences.stop])
            rec = {"epoch": epoch + 1, "words": done, "loss": loss / max(examples, 1),
                   "lr": sched.lr(int(corpus.offsets[sentences.stop])),
                   "words_per_s": done / max(time.monotonic() - start, 1e-9)}
            history.append(rec)
            if on_chunk is not None:
                on_chunk(rec)
    return Word2VecModel(list(corpus.words), st.w_in, st.w_out, history)
