"""Sentiment with an LSTM against a bag-of-words baseline, on generated reviews.

No movie-review set ships with hubkit's dependencies, so the reviews are
generated, honestly, by `make_reviews`: short sentences like "the plot was
not really boring overall" whose label is the adjective's polarity, flipped
by "not". A bag of words sees {"not", "boring"} whatever the order, and a
linear model on word counts cannot express "polarity XOR negation": it learns
the adjectives' polarity, so it gets plain sentences right and negated ones
wrong (a quarter of the reviews are negated, so it scores about 75%). The LSTM reads the words in
order and learns the flip. The run reports both accuracies, on all test
sentences and on the negated ones.

Shape legend: B batch, T words, V vocabulary, H hidden size.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_sequence

from hubkit.rnn.layers import LSTM

SUBJECTS = ["the movie", "this film", "the plot", "the acting", "the ending", "the cast"]
VERBS = ["was", "is", "seemed", "felt"]
INTENSIFIERS = ["", "really", "very", "quite"]
POSITIVE = ["good", "great", "fun", "brilliant", "moving", "charming"]
NEGATIVE = ["bad", "boring", "awful", "dull", "clumsy", "tedious"]
ENDINGS = ["", "overall", "to me", "i think", "honestly"]


def make_reviews(n: int, seed: int = 0,
                 negate_p: float = 0.25) -> list[tuple[list[str], int]]:
    """n generated reviews (words, label 1 positive / 0 negative); about negate_p of them
    negated (as in real reviews, a minority: the adjective alone is then a useful cue).

    Example:
        >>> words, label = make_reviews(1, seed=3)[0]
        >>> isinstance(" ".join(words), str), label in (0, 1)
        (True, True)
    """
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        positive, negated = rng.random() < 0.5, rng.random() < negate_p
        adjective = rng.choice(POSITIVE if positive else NEGATIVE)
        words = " ".join([rng.choice(SUBJECTS), rng.choice(VERBS), "not" if negated else "",
                          rng.choice(INTENSIFIERS), adjective, rng.choice(ENDINGS)]).split()
        out.append((words, int(positive != negated)))
    return out


def vocabulary(reviews) -> dict[str, int]:
    """word -> id, 0 kept for padding."""
    words = sorted({w for ws, _ in reviews for w in ws})
    return {w: i + 1 for i, w in enumerate(words)}


def encode(reviews, vocab: dict[str, int]):
    """(ids (B, T) padded with 0, lengths (B,), labels (B,))."""
    seqs = [torch.tensor([vocab[w] for w in ws]) for ws, _ in reviews]
    return (pad_sequence(seqs, batch_first=True), torch.tensor([len(s) for s in seqs]),
            torch.tensor([y for _, y in reviews]))


class BagOfWords(nn.Module):
    """Logistic regression on word counts: the order of the words is thrown away."""

    def __init__(self, vocab_size: int) -> None:
        super().__init__()
        self.linear = nn.Linear(vocab_size + 1, 2)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        counts = F.one_hot(ids, self.linear.in_features).sum(1).float()  # (B, V+1)
        counts[:, 0] = 0  # padding is not a word
        return self.linear(counts)


class LSTMClassifier(nn.Module):
    """Embedding -> hubkit LSTM over the packed sentences -> last state -> 2 logits."""

    def __init__(self, vocab_size: int, embed: int = 16, hidden: int = 32) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size + 1, embed, padding_idx=0)
        self.lstm = LSTM(embed, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 2)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        # subtle: packed, so each sentence's final state is taken at its own last word
        packed = pack_padded_sequence(self.embed(ids), lengths, batch_first=True,
                                      enforce_sorted=False)
        _, (h, _) = self.lstm(packed)
        return self.head(h[-1])


@dataclass
class SentimentConfig:
    """Settings of the sentiment comparison (defaults: well under a minute on a CPU)."""

    train_size: int = 2000
    test_size: int = 500
    steps: int = 400
    batch_size: int = 64
    lr: float = 0.01
    hidden: int = 32
    seed: int = 0


def fit(model: nn.Module, data, cfg: SentimentConfig, gen: torch.Generator, progress=None,
        name: str = "") -> None:
    """Adam on random minibatches of (ids, lengths, labels)."""
    ids, lengths, labels = data
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    for _ in range(cfg.steps):
        idx = torch.randint(0, len(labels), (cfg.batch_size,), generator=gen)
        loss = F.cross_entropy(model(ids[idx], lengths[idx]), labels[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if progress is not None:
            progress.update(**{f"{name} loss": float(loss.detach())})


@torch.no_grad()
def accuracy(model: nn.Module, data, mask: torch.Tensor | None = None) -> float:
    ids, lengths, labels = data
    right = model(ids, lengths).argmax(1) == labels
    return float(right[mask].float().mean() if mask is not None else right.float().mean())


def compare(cfg: SentimentConfig, progress=None) -> dict:
    """Train both models on the same generated reviews; their test accuracies."""
    torch.manual_seed(cfg.seed)
    train = make_reviews(cfg.train_size, cfg.seed)
    test = make_reviews(cfg.test_size, cfg.seed + 1)
    vocab = vocabulary(train + test)
    train_t, test_t = encode(train, vocab), encode(test, vocab)
    negated = torch.tensor(["not" in ws for ws, _ in test])
    out = {}
    for name, model in (("bag_of_words", BagOfWords(len(vocab))),
                        ("lstm", LSTMClassifier(len(vocab), hidden=cfg.hidden))):
        fit(model, train_t, cfg, torch.Generator().manual_seed(cfg.seed), progress, name)
        out[name] = {"test_accuracy": accuracy(model, test_t),
                     "negated_accuracy": accuracy(model, test_t, negated),
                     "plain_accuracy": accuracy(model, test_t, ~negated)}
    return out
