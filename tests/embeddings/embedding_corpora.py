"""Small corpora for the embeddings tests (two topics that never share a sentence) and how
well a model separates them."""

from __future__ import annotations

import numpy as np

from hubkit.embeddings import evaluate, word2vec

TOPIC_A = ["list", "tuple", "append", "index", "slice", "sort"]
TOPIC_B = ["socket", "server", "connect", "send", "port", "host"]


def topic_sentences(n: int = 300, length: int = 8, seed: int = 0) -> list[list[str]]:
    """Sentences that each draw words from one topic only, plus the shared word "the"."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        topic = TOPIC_A if i % 2 == 0 else TOPIC_B
        words = [topic[j] for j in rng.integers(0, len(topic), length)]
        out.append([w for pair in zip(words, ["the"] * length, strict=True) for w in pair])
    return out


def separation(model) -> float:
    """Mean cosine within topics minus across topics."""
    unit = evaluate.normalize(model.w_in)
    idx = {w: i for i, w in enumerate(model.words)}
    a, b = unit[[idx[w] for w in TOPIC_A]], unit[[idx[w] for w in TOPIC_B]]
    within = ((a @ a.T).sum() - len(a) + (b @ b.T).sum() - len(b)) / (2 * len(a) * (len(a) - 1))
    return float(within - (a @ b.T).mean())


SETTINGS = {"skipgram": {"alpha": 0.05, "epochs": 3}, "cbow": {"alpha": 0.1, "epochs": 5}}


def topic_config(mode: str, **change) -> word2vec.Word2VecConfig:
    settings = {"dim": 10, "window": 3, "sample": 0, "table_size": 10_000, "threads": 1,
                **SETTINGS[mode], **change}
    return word2vec.Word2VecConfig(mode=mode, **settings)
