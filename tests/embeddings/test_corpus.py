"""hubkit.embeddings.corpus: tokenization, sentences, the vocabulary and the offline sources."""

from __future__ import annotations

import numpy as np
import pytest

from hubkit.embeddings import corpus


def test_tokenize_lowercases_keeps_identifiers_and_drops_numbers_and_punctuation():
    assert corpus.tokenize("Call os.path.join(a, 42) on __init__; it's OK") == [
        "call", "os", "path", "join", "a", "on", "__init__", "it", "s", "ok"]


def test_sentences_are_paragraphs_cut_to_max_len():
    text = "one two three\nfour\n\n  \nfive six"
    assert corpus.sentences(text) == [["one", "two", "three", "four"], ["five", "six"]]
    assert corpus.sentences(text, max_len=3)[:2] == [["one", "two", "three"], ["four"]]


def test_build_drops_rare_words_orders_by_count_and_keeps_sentence_edges():
    c = corpus.build([["b", "a", "rare"], ["rare2"], ["a", "b", "a"]], min_count=2)
    assert c.words == ["a", "b"] and c.counts.tolist() == [3, 2]
    assert c.ids.dtype == np.int32 and c.offsets.dtype == np.int64
    assert c.sentences() == [["b", "a"], ["a", "b", "a"]]  # the emptied sentence is gone


def test_build_rejects_min_count_below_one():
    with pytest.raises(ValueError, match="min_count"):
        corpus.build([["a"]], min_count=0)


def test_pydoc_corpus_is_python_documentation():
    c = corpus.load("pydoc", max_words=20_000)
    assert 15_000 < len(c.ids) <= 20_000  # the first 20k words, less those under min_count
    assert {"the", "list", "function", "return"} <= set(c.words)


def test_a_folder_corpus_reads_its_text_files_only(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.md").write_text("alpha beta\n\nbeta gamma")
    (tmp_path / "sub" / "b.txt").write_text("gamma delta")
    (tmp_path / "c.bin").write_text("ignored words here")
    assert corpus.load(tmp_path, min_count=1).sentences() == [
        ["alpha", "beta"], ["beta", "gamma"], ["gamma", "delta"]]


def test_a_missing_or_empty_folder_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="corpus"):
        corpus.load(tmp_path / "nope")
    with pytest.raises(ValueError, match="no .txt"):
        corpus.load(tmp_path)


def test_stdlib_text_is_docstrings_and_comments_without_tests_or_codec_tables(tmp_path):
    (tmp_path / "test").mkdir()
    (tmp_path / "encodings").mkdir()
    (tmp_path / "mod.py").write_text('"""Module doc."""\n# a comment\n# more\nx = "not doc"\n\n'
                                     'def f():\n    """Function doc."""\n')
    (tmp_path / "test" / "test_mod.py").write_text('"""Test doc."""\n')
    (tmp_path / "encodings" / "cp.py").write_text("# LATIN SMALL LETTER A\n")
    assert [p.name for p in corpus.stdlib_files(tmp_path)] == ["mod.py"]
    assert corpus.sentences(corpus.stdlib_text(tmp_path)) == [
        ["module", "doc"], ["function", "doc"], ["a", "comment", "more"]]
