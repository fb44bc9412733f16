"""hubkit.embeddings.evaluate: the scores on planted vectors, the sets, and the file format."""

from __future__ import annotations

import numpy as np
import pytest

from hubkit.embeddings import evaluate


def planted() -> tuple[list[str], np.ndarray]:
    """Singular and plural nouns whose plurals sit at one fixed offset: every analogy holds."""
    rng = np.random.default_rng(0)
    nouns = ["file", "key", "line", "name", "thread"]
    base = rng.normal(size=(len(nouns), 16)) * 3
    offset = rng.normal(size=16)
    words = nouns + [n + "s" for n in nouns] + ["noise"]
    return words, np.vstack([base, base + offset, rng.normal(size=(1, 16))])


def test_analogies_are_solved_when_the_offset_is_constant():
    words, vectors = planted()
    res = evaluate.analogy_accuracy(words, vectors)
    assert res["plural"]["asked"] == 5 * 4 and res["plural"]["accuracy"] == 1.0
    assert res["past"]["asked"] == 0  # words not in the vocabulary are not asked


def test_analogies_fail_when_plurals_are_shuffled():
    words, vectors = planted()
    vectors[5:10] = vectors[[6, 7, 8, 9, 5]]
    assert evaluate.analogy_accuracy(words, vectors)["plural"]["accuracy"] < 0.5


def test_spearman_matches_scipy_with_ties():
    stats = pytest.importorskip("scipy.stats")
    a, b = [3, 1, 4, 1, 5, 9, 2, 6], [2, 7, 1, 8, 2, 8, 1, 8]
    assert evaluate.spearman(a, b) == pytest.approx(stats.spearmanr(a, b).statistic)


def test_similarity_correlates_cosines_with_the_hand_scores():
    words = ["a", "b", "c", "d"]
    vectors = np.array([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0], [1.0, 1.0]])
    pairs = [("a", "b", 9.0), ("a", "c", 1.0), ("a", "d", 5.0), ("a", "zzz", 3.0)]
    res = evaluate.similarity(words, vectors, pairs)
    assert res["spearman"] == pytest.approx(1.0) and res["pairs"] == 3 and res["asked"] == 4


def test_hand_made_sets_use_distinct_pairs_with_scores_in_range():
    assert all(0 <= s <= 10 for *_, s in evaluate.SIMILARITY)
    assert len({(a, b) for a, b, _ in evaluate.SIMILARITY}) == len(evaluate.SIMILARITY)
    for pairs in evaluate.ANALOGY_GROUPS.values():
        assert len(set(pairs)) == len(pairs) >= 10


def test_neighbours_are_nearest_by_cosine():
    words, vectors = planted()
    near = evaluate.neighbours(words, vectors, probes=["file", "absent"], k=1)
    assert list(near) == ["file"]
    assert near["file"][0] == words[1 + np.argmax(evaluate.normalize(vectors[1:]) @
                                                  evaluate.normalize(vectors[:1])[0])]


def test_random_baseline_scores_near_zero():
    words = sorted({w for a, b, _ in evaluate.SIMILARITY for w in (a, b)}
                   | {w for p in evaluate.ANALOGY_GROUPS["plural"] for w in p})
    base = evaluate.baseline(words, dim=16, seeds=5)
    assert abs(base["similarity_mean"]) < 0.5 and base["similarity_std"] > 0
    assert base["analogies_mean"] < 0.2


def test_word2vec_text_format_round_trips(tmp_path):
    words, vectors = planted()
    path = evaluate.save_word2vec_format(tmp_path / "v.txt", words, vectors)
    got_words, got = evaluate.load_word2vec_format(path)
    assert got_words == words
    np.testing.assert_allclose(got, vectors, rtol=1e-5)


def test_gensim_loads_the_saved_vectors(tmp_path):
    gensim_models = pytest.importorskip("gensim.models")
    words, vectors = planted()
    path = evaluate.save_word2vec_format(tmp_path / "v.txt", words, vectors)
    kv = gensim_models.KeyedVectors.load_word2vec_format(str(path), binary=False)
    assert kv.index_to_key == words
    np.testing.assert_allclose(kv["thread"], vectors[4], rtol=1e-5)
    ours = evaluate.neighbours(words, vectors, probes=["key"], k=3)["key"]
    assert [w for w, _ in kv.most_similar("key", topn=3)] == ours
