"""hubkit.lm.data: the one corpus loader (char-LSTM and GPT), folders, splits."""

from __future__ import annotations

import pytest

from hubkit.lm import data
from hubkit.rnn import train as rnn_train


def test_the_char_lstm_uses_the_same_loader():
    assert rnn_train.load_corpus is data.load_corpus


def test_pydoc_corpus_is_the_sorted_topics_joined():
    import pydoc_data.topics

    topics = pydoc_data.topics.topics
    first = sorted(topics)[0]
    assert data.load_corpus("pydoc", max_chars=50) == topics[first][:50]


def test_stdlib_corpus_has_docs_then_sources_without_tests():
    docs = data.load_documents("stdlib", max_chars=3_000_000)
    names = [n for n, _ in docs]
    assert names[0].startswith("pydoc:") and any(n.endswith(".py") for n in names)
    assert not any("/test/" in f"/{n}" for n in names)
    assert sum(len(t) for _, t in docs) == 3_000_000


def test_a_folder_of_text_is_read_in_path_order(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.txt").write_text("second", encoding="utf-8")
    (tmp_path / "a.md").write_text("first", encoding="utf-8")
    (tmp_path / "skip.bin").write_bytes(b"\x00\x01")
    assert data.load_documents(tmp_path) == [("a.md", "first"), ("b/z.txt", "second")]
    assert data.load_corpus(str(tmp_path)) == "first\n\nsecond"


def test_a_file_is_one_document(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("hello world", encoding="utf-8")
    assert data.load_corpus(str(path), max_chars=5) == "hello"


def test_missing_source_names_the_argument(tmp_path):
    with pytest.raises(ValueError, match="source"):
        data.load_documents(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="source: no"):
        data.load_documents(tmp_path / "empty")


def test_split_holds_out_whole_documents():
    docs = [(str(i), f"doc{i}") for i in range(40)]
    train, val = data.split_documents(docs)
    assert val == ["doc10", "doc30"] and len(train) == 38
    assert not set(train) & set(val)


def test_split_of_one_document_cuts_its_end():
    train, val = data.split_documents([("a", "x" * 100)])
    assert train == ["x" * 95] and val == ["x" * 5]
