"""The C++ backend: merges identical to the reference (and to rustbpe), same encodings."""

from __future__ import annotations

import pytest
from bpe_corpora import ODD_TEXT, cpp_has_bpe, pydoc_text, stdlib_source

from hubkit import _ext
from hubkit.tokenizers import BPETokenizer, reference

pytestmark = pytest.mark.skipif(not cpp_has_bpe(), reason="hubkit._C with csrc/bpe is not built")

CORPORA = {
    "pydoc": lambda: pydoc_text(size=12_000),
    "stdlib": lambda: stdlib_source(6000),
    "unicode": lambda: ODD_TEXT * 30,
    "repeats": lambda: "aaaa aaa aa a abab ababab " * 40 + "x" * 300,
}


@pytest.mark.parametrize("corpus", CORPORA)
@pytest.mark.parametrize("pattern, vocab_size", [("gpt4", 300), ("gpt2", 420), ("gpt4", 520)])
def test_cpp_merges_are_identical_to_the_reference(corpus, pattern, vocab_size):
    text = CORPORA[corpus]()
    ref = BPETokenizer(pattern, backend="reference").train(text, vocab_size, ["<|eos|>"])
    cpp = BPETokenizer(pattern, backend="cpp").train(text, vocab_size, ["<|eos|>"])
    assert cpp.merges == ref.merges
    assert cpp.special_tokens == ref.special_tokens


def test_cpp_stops_early_like_the_reference_when_no_pair_is_left():
    ref = BPETokenizer(backend="reference").train("ab ab", 1000)
    cpp = BPETokenizer(backend="cpp").train("ab ab", 1000)
    assert cpp.merges == ref.merges and len(cpp.merges) < 1000 - 256


def test_cpp_training_gives_the_same_merges_on_one_thread_or_many():
    chunks = reference.split_chunks(pydoc_text(size=60_000), reference.GPT4_PATTERN)
    train = _ext.cpp_module().bpe_train
    assert train(chunks, 300, 1) == train(chunks, 300, 4)


@pytest.mark.parametrize("pattern", ["gpt2", "gpt4"])
def test_cpp_merges_match_rustbpe_on_the_same_text_and_pattern(pattern):
    rustbpe = pytest.importorskip("rustbpe", reason="rustbpe is not installed (extra [bench])")
    text = pydoc_text(size=40_000) + stdlib_source(10_000)
    ours = BPETokenizer(pattern, backend="cpp").train(text, 700)
    theirs = rustbpe.Tokenizer()
    theirs.train_from_iterator([text], 700, pattern=ours.pattern)
    ranks = sorted(theirs.get_mergeable_ranks(), key=lambda item: item[1])
    assert [token for token, _ in ranks] == ours.vocab  # same tie rule: smallest pair first


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """The same tokenizer on both backends: trained by the reference, loaded into C++."""
    ref = BPETokenizer(backend="reference").train(pydoc_text(size=15_000), 400, ["<|eos|>"])
    path = ref.save(tmp_path_factory.mktemp("bpe") / "tok.json")
    return ref, BPETokenizer.load(path, backend="cpp")


@pytest.mark.parametrize("text", [ODD_TEXT, pydoc_text(30_000, 5000), stdlib_source(3000),
                                  "", "x" * 1000, " \n" * 100])
def test_cpp_encoding_matches_the_reference(pair, text):
    ref, cpp = pair
    assert cpp.encode(text) == ref.encode(text)
    assert cpp.decode(cpp.encode(text)) == text


def test_cpp_batch_encoding_on_many_threads_matches_one_text_at_a_time(pair):
    ref, cpp = pair
    texts = [pydoc_text(i * 7000, 7000) for i in range(12)] + [ODD_TEXT, ""]
    assert sum(len(reference.split_chunks(t, cpp.pattern)) for t in texts) > 3 * 4096
    assert cpp.encode_batch(texts) == [ref.encode_ordinary(t) for t in texts]


def test_cpp_rejects_a_chunk_that_is_not_a_str():
    with pytest.raises(ValueError, match="chunks: every item must be a str"):
        _ext.cpp_module().bpe_train(["ab", b"cd"], 3, 1)


def _fuzz(n: int, seed: int = 0) -> list[str]:
    """Short strings over the characters where the split patterns' alternatives meet."""
    import random

    rng = random.Random(seed)
    pool = list(" \t\n\r'sdmtlverSLVEa1٣Ⅻ!?.,;(\u00a0\u2028\u3000é世🤖_-\u017f")
    return ["".join(rng.choice(pool) for _ in range(rng.randint(0, 40))) for _ in range(n)]


@pytest.mark.parametrize("pattern", [reference.GPT2_PATTERN, reference.GPT4_PATTERN],
                         ids=["gpt2", "gpt4"])
def test_cpp_split_gives_the_chunks_of_regex_findall(pattern):
    from hubkit.tokenizers import ops

    pre = ops.pretokenizer(pattern)
    assert pre is not None
    texts = [pydoc_text(size=50_000), stdlib_source(20_000), ODD_TEXT, "", *_fuzz(2000)]
    for text in texts:
        assert pre.split(text) == reference.split_chunks(text, pattern), repr(text)


def test_cpp_backend_with_a_custom_pattern_splits_with_regex_and_matches_the_reference():
    text = stdlib_source(5000)
    ref = BPETokenizer(r"\w+|\s+|[^\w\s]+", backend="reference").train(text, 330)
    cpp = BPETokenizer(r"\w+|\s+|[^\w\s]+", backend="cpp").train(text, 330)
    assert cpp.merges == ref.merges
    assert cpp.encode_batch([ODD_TEXT, text]) == ref.encode_batch([ODD_TEXT, text])
