"""word2vec in NumPy: skip-gram and CBOW with negative sampling. The readable reference.

Mikolov et al., "Efficient Estimation of Word Representations in Vector Space"
(2013, arXiv:1301.3781) and "Distributed Representations of Words and Phrases
and their Compositionality" (2013, arXiv:1310.4546); the original C code is
word2vec.c.

Every word has two vectors: an input vector (a row of `w_in`, the embedding
we keep) and an output vector (a row of `w_out`). For one example, an input
vector v (the centre word's, or the mean of the context's for CBOW) should
score high against the output vector u_+ of the word to predict and low
against K "negative" words drawn from a noise distribution:

    loss = -log sigmoid(v . u_+) - sum_k log sigmoid(-v . u_k)

Its gradients (sigma = sigmoid):

    dloss/du_+ = (sigma(v . u_+) - 1) v
    dloss/du_k = sigma(v . u_k) v
    dloss/dv   = (sigma(v . u_+) - 1) u_+ + sum_k sigma(v . u_k) u_k

* skip-gram: each centre word predicts each word around it, v = w_in[centre];
* CBOW: the mean of the context's input vectors predicts the centre word,
  so each context vector gets dloss/dv / (number of context words).

Three details make it work (all as in word2vec.c):

* negatives are drawn from the unigram distribution raised to 0.75
  (`noise_table`): frequent words are drawn less often than their share;
* frequent words are subsampled (`keep_probabilities`);
* the learning rate falls linearly from `alpha` to `min_alpha` over the run
  (`learning_rate`); it depends only on a word's place in the schedule (epoch
  and position), so it is the same with any number of threads.

Randomness comes from word2vec.c's 64-bit linear congruential generator
(`LCG`), in a fixed order (subsampling, window size, negatives), so the C++
trainer with one thread makes exactly the same updates (tests/embeddings).

Shape legend: V vocabulary, D vector size, B batch of examples, K negatives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MASK64 = (1 << 64) - 1


@dataclass
class Word2VecConfig:
    """Settings of a word2vec run (defaults: gensim's, which are word2vec.c's for skip-gram)."""

    mode: str = "skipgram"
    """"skipgram" (the centre predicts each context word) or "cbow" (the context predicts it)."""
    dim: int = 100
    """D: size of each word vector."""
    window: int = 5
    """Largest distance between centre and context; each centre draws a window in 1..window."""
    negative: int = 5
    """K: negative words per example."""
    sample: float = 1e-3
    """Subsampling threshold t (0 turns subsampling off); see keep_probabilities."""
    alpha: float = 0.025
    """Learning rate at the start."""
    min_alpha: float = 1e-4
    """Learning rate at the end (it falls linearly)."""
    epochs: int = 5
    """Passes over the corpus."""
    ns_exponent: float = 0.75
    """Noise distribution: unigram counts raised to this power."""
    table_size: int = 10_000_000
    """Slots of the noise table (a word gets a share proportional to its noise probability)."""
    min_count: int = 5
    """Words seen fewer times are dropped from the corpus."""
    seed: int = 1
    """Seeds the initial vectors and the generators."""
    threads: int = 2
    """Threads of the C++ trainer (the reference always uses one)."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ValueError naming the first setting out of range (the C++ trainer trusts them)."""
        if self.mode not in ("skipgram", "cbow"):
            raise ValueError(f"mode: must be 'skipgram' or 'cbow', got {self.mode!r}")
        for name in ("dim", "window", "epochs", "table_size", "min_count", "threads"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name}: must be >= 1, got {getattr(self, name)}")
        if self.negative < 1:
            raise ValueError(f"negative: must be >= 1, got {self.negative}")
        if not 0 <= self.min_alpha <= self.alpha:
            raise ValueError(f"alpha, min_alpha: need 0 <= min_alpha <= alpha, got "
                             f"{self.alpha}, {self.min_alpha}")
        if self.sample < 0:
            raise ValueError(f"sample: must be >= 0, got {self.sample}")


# ----------------------------------------------------------------------------- the loss


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), written so that neither large positive nor negative x overflows."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sgns_loss_and_grads(v: np.ndarray, u_pos: np.ndarray, u_neg: np.ndarray):
    """Negative-sampling loss of B examples and its gradients.

    Args:
        v: (B, D) input vectors.
        u_pos: (B, D) output vectors of the words to predict.
        u_neg: (B, K, D) output vectors of the negative words.

    Returns:
        loss (B,), dv (B, D), du_pos (B, D), du_neg (B, K, D): the gradients of loss.sum().

    Example:
        >>> z = np.zeros((1, 2))
        >>> loss, dv, du_pos, du_neg = sgns_loss_and_grads(z, z, np.zeros((1, 3, 2)))
        >>> round(float(loss[0]), 4), round(4 * float(np.log(2)), 4)   # -log(1/2), 4 times
        (2.7726, 2.7726)
    """
    pos = np.einsum("bd,bd->b", v, u_pos)  # (B,)
    neg = np.einsum("bd,bkd->bk", v, u_neg)  # (B, K)
    # subtle: -log sigmoid(x) = log(1 + exp(-x)) = logaddexp(0, -x): no overflow, no log(0)
    loss = np.logaddexp(0.0, -pos) + np.logaddexp(0.0, neg).sum(axis=1)
    g_pos = sigmoid(pos) - 1.0  # (B,)  dloss/d(v . u_+)
    g_neg = sigmoid(neg)  # (B, K)  dloss/d(v . u_k)
    dv = g_pos[:, None] * u_pos + np.einsum("bk,bkd->bd", g_neg, u_neg)
    return loss, dv, g_pos[:, None] * v, g_neg[:, :, None] * v[:, None, :]


# ----------------------------------------------------------------------------- the data


def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """Probability of keeping each occurrence of a word, float32 (V,).

    word2vec.c's formula, with f = count / total and t = sample:

        keep(w) = (sqrt(f / t) + 1) * t / f,   capped at 1

    Words rarer than about t are always kept; a word with f = 100 t keeps about
    11% of its occurrences. (The paper writes the discard probability as
    1 - sqrt(t / f); the code's version keeps a bit more of every word.)
    sample = 0 keeps everything.

    Example:
        >>> [round(float(p), 3) for p in keep_probabilities(np.array([9000, 90, 10]), 0.01)]
        [0.111, 1.0, 1.0]
    """
    if sample <= 0:
        return np.ones(len(counts), dtype=np.float32)
    ratio = sample * counts.sum() / counts.astype(np.float64)  # t / f
    return np.minimum((np.sqrt(1.0 / ratio) + 1.0) * ratio, 1.0).astype(np.float32)


def noise_table(counts: np.ndarray, size: int, power: float = 0.75) -> np.ndarray:
    """int32 (size,): word ids filling slots in proportion to count ** power.

    Drawing a uniform slot then draws a word from the noise distribution in
    O(1). The slots are sorted by word id; a word whose share is under one
    slot may get none (choose `size` well above V).

    Example:
        >>> noise_table(np.array([16, 1]), size=9, power=0.5).tolist()   # shares 4:1
        [0, 0, 0, 0, 0, 0, 0, 1, 1]
    """
    p = counts.astype(np.float64) ** power
    cum = np.cumsum(p / p.sum())
    slots = (np.arange(size) + 0.5) / size
    return np.minimum(np.searchsorted(cum, slots), len(counts) - 1).astype(np.int32)


def learning_rate(alpha: float, min_alpha: float, progress: float) -> float:
    """Linear decay: alpha at progress 0, min_alpha at progress 1."""
    return alpha - (alpha - min_alpha) * progress


def init_vectors(vocab: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(w_in, w_out), float32 (V, D): input uniform in +-0.5/D, output zeros (as word2vec.c)."""
    rng = np.random.default_rng(seed)
    w_in = ((rng.random((vocab, dim)) - 0.5) / dim).astype(np.float32)
    return w_in, np.zeros((vocab, dim), dtype=np.float32)


class LCG:
    """word2vec.c's generator: state <- state * 25214903917 + 11 (mod 2^64).

    The same numbers drive the C++ trainer, so its updates can be compared.

    Example:
        >>> g = LCG(1)
        >>> g.next(), g.next() == (25214903928 * 25214903917 + 11) % 2**64
        (25214903928, True)
    """

    def __init__(self, state: int) -> None:
        self.state = int(state) & MASK64

    def next(self) -> int:
        self.state = (self.state * 25214903917 + 11) & MASK64
        return self.state

    def uniform(self) -> float:
        """In [0, 1) with 16 bits, as word2vec.c's subsampling draw."""
        return (self.next() & 0xFFFF) / 65536.0


# ----------------------------------------------------------------------------- training


@dataclass
class Schedule:
    """Where a chunk of training sits in the whole run, for the learning rate."""

    alpha: float
    min_alpha: float
    base: int
    """Tokens trained before this epoch (epoch * N)."""
    total: int
    """Tokens in the whole run (epochs * N)."""

    def lr(self, position: int) -> float:
        """The learning rate for token `position` (index into the corpus's ids) of this epoch."""
        return learning_rate(self.alpha, self.min_alpha, (self.base + position) / self.total)


def subsample(ids: np.ndarray, start: int, keep: np.ndarray, rng: LCG) -> list[tuple[int, int]]:
    """[(word, position)] of one sentence's kept words; one draw per word with keep < 1."""
    kept = []
    for i, w in enumerate(ids.tolist()):
        if keep[w] < 1.0 and keep[w] < rng.uniform():
            continue
        kept.append((w, start + i))
    return kept


def draw_negatives(target: int, k: int, table: np.ndarray, rng: LCG) -> list[int]:
    """k draws from the noise table; a draw equal to the target is skipped (not redrawn)."""
    out = []
    for _ in range(k):
        w = int(table[(rng.next() >> 16) % len(table)])
        if w != target:
            out.append(w)
    return out


def sgd_step(w_in, w_out, inputs: list[int], target: int, negatives: list[int],
             lr: float) -> float:
    """One SGD step on one example; v is the mean of w_in[inputs]. Returns its loss.

    All gradients are taken at the old values, then applied (np.add.at adds
    repeated rows once per occurrence).
    """
    v = w_in[inputs].mean(axis=0)  # (D,)
    loss, dv, du_pos, du_neg = sgns_loss_and_grads(v[None], w_out[target][None],
                                                   w_out[negatives][None])
    w_out[target] -= lr * du_pos[0]
    np.subtract.at(w_out, negatives, lr * du_neg[0])
    np.subtract.at(w_in, inputs, lr * dv[0] / len(inputs))
    return float(loss[0])


def train_sentence(w_in, w_out, kept: list[tuple[int, int]], cfg: Word2VecConfig,
                   table: np.ndarray, sched: Schedule, rng: LCG) -> tuple[float, int]:
    """Train on one subsampled sentence; returns (summed loss, examples)."""
    loss, examples = 0.0, 0
    for i, (centre, pos) in enumerate(kept):
        reach = cfg.window - rng.next() % cfg.window  # this centre's window, 1..window
        context = [kept[j][0] for j in range(max(0, i - reach), min(len(kept), i + reach + 1))
                   if j != i]
        if not context:
            continue
        lr = sched.lr(pos)
        if cfg.mode == "cbow":
            pairs = [(context, centre)]
        else:
            pairs = [([centre], c) for c in context]
        for inputs, target in pairs:
            negatives = draw_negatives(target, cfg.negative, table, rng)
            loss += sgd_step(w_in, w_out, inputs, target, negatives, lr)
            examples += 1
    return loss, examples


def train_chunk(w_in, w_out, ids, offsets, keep, table, cfg: Word2VecConfig,
                sched: Schedule, rng: LCG, sentences: range) -> tuple[float, int, int]:
    """Train on sentences[first:last]; returns (summed loss, examples, words kept)."""
    loss, examples, words = 0.0, 0, 0
    for s in sentences:
        a, b = int(offsets[s]), int(offsets[s + 1])
        kept = subsample(ids[a:b], a, keep, rng)
        part_loss, part_examples = train_sentence(w_in, w_out, kept, cfg, table, sched, rng)
        loss, examples, words = loss + part_loss, examples + part_examples, words + len(kept)
    return loss, examples, words
