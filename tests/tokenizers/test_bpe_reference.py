"""The readable BPE: tie rule, merge semantics and training on small corpora."""

from __future__ import annotations

from collections import Counter

from hubkit.tokenizers import reference
from hubkit.tokenizers.reference import GPT2_PATTERN, GPT4_PATTERN


def test_best_pair_breaks_ties_by_smallest_pair_not_by_insertion_order():
    counts = Counter({(98, 99): 5, (97, 120): 5, (97, 98): 5, (1, 2): 4})
    assert reference.best_pair(counts) == (97, 98)


def test_merge_is_left_to_right_and_non_overlapping():
    assert reference.merge([1, 1, 1, 2, 1, 1], (1, 1), 9) == [9, 1, 2, 9]


def test_pair_counts_include_overlapping_pairs_weighted_by_frequency():
    counts = reference.pair_counts([[1, 1, 1], [1, 2]], [3, 2])
    assert counts == {(1, 1): 6, (1, 2): 2}


def test_train_merges_learns_the_most_frequent_pair_first():
    counts = {b"abab": 3, b"xy": 10, b"xyz": 1}
    merges = reference.train_merges(counts, 3)
    assert merges[0] == (120, 121)  # "xy" 11 times
    assert merges[1] == (97, 98)  # "ab" 6 times


def test_train_merges_stops_when_no_pair_is_left():
    assert reference.train_merges({b"ab": 1, b"c": 5}, 10) == [(97, 98)]


def test_encode_chunk_applies_merges_in_training_order():
    ranks = {(98, 99): 0, (97, 98): 1, (97, 256): 2}
    assert reference.encode_chunk(b"abc", ranks) == [258]  # "bc" first, then (a, bc)
    assert reference.encode_chunk(b"abd", ranks) == [257, 100]


def test_patterns_split_like_gpt2_and_gpt4():
    text = "I'LL go 12345 ok!!\n\n  x"
    assert reference.split_chunks(text, GPT2_PATTERN) == [
        "I", "'", "LL", " go", " 12345", " ok", "!!", "\n\n ", " x"]
    assert reference.split_chunks(text, GPT4_PATTERN) == [
        "I", "'LL", " go", " ", "123", "45", " ok", "!!\n\n", " ", " x"]


def test_vocab_bytes_concatenates_the_merged_pieces():
    vocab = reference.vocab_bytes([(97, 98), (256, 99)])
    assert vocab[256:] == [b"ab", b"abc"] and len(vocab) == 258
