"""GloVe in NumPy: word vectors fitted to the log of a co-occurrence matrix. The reference.

Pennington, Socher and Manning, "GloVe: Global Vectors for Word
Representation" (EMNLP 2014). word2vec streams over the text; GloVe first
counts, for every pair of words, how often j appears within `window` words of
i, weighting a co-occurrence at distance d by 1/d: the matrix X (V, V). It then
fits word vectors w, context vectors w~ and biases b, b~ by weighted least
squares on the non-zero entries:

    J = sum_ij f(X_ij) (w_i . w~_j + b_i + b~_j - log X_ij)^2
    f(x) = (x / x_max)^a  if x < x_max  else 1       (x_max = 100, a = 3/4)

f lets rare pairs (noisy counts) count less and stops the commonest pairs
("of the") from dominating; log X turns ratios of co-occurrence probabilities
into differences of dot products, which is why vector offsets carry meaning.
Gradients, with e_ij = w_i . w~_j + b_i + b~_j - log X_ij:

    dJ/dw_i = sum_j 2 f(X_ij) e_ij w~_j,   dJ/db_i = sum_j 2 f(X_ij) e_ij   (and alike for w~, b~)

Training is AdaGrad over shuffled mini-batches of entries (the paper uses
AdaGrad entry by entry); the word vectors kept are w + w~.

Shape legend: V vocabulary, D vector size, E non-zero entries of X.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hubkit.embeddings.corpus import Corpus


def cooccurrence(corpus: Corpus, window: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Non-zero entries of the symmetric co-occurrence matrix: rows, cols int64 (E,), x (E,).

    A pair at distance d (1..window) inside one sentence adds 1/d to X[i, j] and X[j, i].

    Example:
        >>> from hubkit.embeddings.corpus import build
        >>> rows, cols, x = cooccurrence(build([["a", "b", "a"]], min_count=1), window=2)
        >>> sorted(zip(rows.tolist(), cols.tolist(), x.tolist()))
        [(0, 0, 1.0), (0, 1, 2.0), (1, 0, 2.0)]
    """
    v = len(corpus.words)
    ids = corpus.ids.astype(np.int64)
    sentence = np.repeat(np.arange(len(corpus.offsets) - 1), np.diff(corpus.offsets))
    keys, weights = [], []
    for d in range(1, window + 1):
        same = sentence[d:] == sentence[:-d]  # pairs that stay inside one sentence
        a, b = ids[:-d][same], ids[d:][same]
        keys += [a * v + b, b * v + a]
        weights += [np.full(2 * len(a), 1.0 / d)]
    if not keys:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    flat, inverse = np.unique(np.concatenate(keys), return_inverse=True)
    x = np.bincount(inverse, weights=np.concatenate(weights))
    return flat // v, flat % v, x


def weight(x: np.ndarray, x_max: float = 100.0, power: float = 0.75) -> np.ndarray:
    """f(x) = min(1, (x / x_max) ** power).

    Example:
        >>> weight(np.array([1.0, 100.0, 500.0]), x_max=100.0, power=0.5).tolist()
        [0.1, 1.0, 1.0]
    """
    return np.minimum(1.0, (x / x_max) ** power)


def loss_and_grads(w, wc, b, bc, rows, cols, x, x_max: float = 100.0, power: float = 0.75):
    """GloVe's J over the entries (rows, cols, x) and its gradients.

    Args:
        w, wc: (V, D) word and context vectors. b, bc: (V,) biases.
        rows, cols: int (E,) entry positions; x: (E,) their counts (> 0).

    Returns:
        J (a float), dw (V, D), dwc (V, D), db (V,), dbc (V,).
    """
    f = weight(x, x_max, power)  # (E,)
    err = np.einsum("ed,ed->e", w[rows], wc[cols]) + b[rows] + bc[cols] - np.log(x)
    g = 2.0 * f * err  # (E,)  dJ/d(score)
    dw, dwc = np.zeros_like(w), np.zeros_like(wc)
    np.add.at(dw, rows, g[:, None] * wc[cols])
    np.add.at(dwc, cols, g[:, None] * w[rows])
    db = np.bincount(rows, weights=g, minlength=len(b))
    dbc = np.bincount(cols, weights=g, minlength=len(bc))
    return float((f * err * err).sum()), dw, dwc, db, dbc


@dataclass
class GloVeConfig:
    """Settings of a GloVe run (the paper's, scaled for a CPU)."""

    dim: int = 100
    window: int = 10
    x_max: float = 100.0
    power: float = 0.75
    lr: float = 0.05
    """AdaGrad's step size."""
    epochs: int = 25
    batch: int = 4096
    """Entries per AdaGrad step."""
    seed: int = 0


@dataclass
class GloVeModel:
    words: list[str]
    vectors: np.ndarray
    """(V, D): w + w~, the vectors to use."""
    history: list[float] = field(default_factory=list)
    """J per entry after each epoch."""


def adagrad_step(params: list[np.ndarray], acc: list[np.ndarray], rows, cols, x,
                 cfg: GloVeConfig) -> float:
    """One AdaGrad step on a batch of entries; only the rows the batch touches change.

    The gradient is `loss_and_grads` on the touched rows alone (the others' is zero).
    """
    ur, ri = np.unique(rows, return_inverse=True)
    uc, ci = np.unique(cols, return_inverse=True)
    w, wc, b, bc = params
    loss, *grads = loss_and_grads(w[ur], wc[uc], b[ur], bc[uc], ri, ci, x, cfg.x_max, cfg.power)
    for p, a, g, idx in zip(params, acc, grads, (ur, uc, ur, uc), strict=True):
        a[idx] += g * g
        p[idx] -= cfg.lr * g / np.sqrt(a[idx])
    return loss


def train(corpus: Corpus, cfg: GloVeConfig | None = None, on_epoch=None) -> GloVeModel:
    """Fit GloVe to the corpus's co-occurrences; `on_epoch(epoch, loss)` after each epoch."""
    cfg = cfg or GloVeConfig()
    rows, cols, x = cooccurrence(corpus, cfg.window)
    rng = np.random.default_rng(cfg.seed)
    v = len(corpus.words)
    params = [(rng.random((v, cfg.dim)) - 0.5) / cfg.dim, (rng.random((v, cfg.dim)) - 0.5)
              / cfg.dim, np.zeros(v), np.zeros(v)]  # w, w~, b, b~
    acc = [np.ones_like(p) for p in params]  # AdaGrad's sums of squares (from 1, as GloVe's C)
    history = []
    for epoch in range(cfg.epochs):
        order = rng.permutation(len(x))
        total = 0.0
        for start in range(0, len(x), cfg.batch):
            e = order[start:start + cfg.batch]
            total += adagrad_step(params, acc, rows[e], cols[e], x[e], cfg)
        history.append(total / max(len(x), 1))
        if on_epoch is not None:
            on_epoch(epoch + 1, history[-1])
    return GloVeModel(list(corpus.words), (params[0] + params[1]).astype(np.float32), history)
