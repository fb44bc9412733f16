"""Fixtures of the embeddings tests."""

from __future__ import annotations

import pytest
from embedding_corpora import topic_sentences

from hubkit.embeddings import corpus


@pytest.fixture
def topics() -> corpus.Corpus:
    return corpus.build(topic_sentences(), min_count=1)


@pytest.fixture
def tiny() -> corpus.Corpus:
    """A few short sentences with repeats: duplicates in windows and among negatives."""
    sents = [["the", "list", "of", "words", "and", "the", "dict", "of", "keys"]] * 6
    return corpus.build(sents + [["a", "b", "the"], ["b"]] * 3, min_count=1)
