"""BPETokenizer: round trips, special tokens, save/load and bad input, on every backend."""

from __future__ import annotations

import pytest
from bpe_corpora import BACKENDS, ODD_TEXT, pydoc_text, stdlib_source

from hubkit.tokenizers import BPETokenizer

EOS = "<|endoftext|>"


@pytest.fixture(scope="module", params=BACKENDS)
def tok(request) -> BPETokenizer:
    return BPETokenizer(backend=request.param).train(pydoc_text(size=8000), 300, [EOS, "<|pad|>"])


def test_vocab_size_counts_bytes_merges_and_special_tokens(tok):
    assert len(tok.merges) == 300 - 256 - 2
    assert tok.vocab_size == 300
    assert tok.special_tokens == {EOS: 298, "<|pad|>": 299}


@pytest.mark.parametrize("text", ["", " ", "a", ODD_TEXT, pydoc_text(50_000, 3000),
                                  stdlib_source(2000), "\U0010ffff\ud7ff\ue000", "x" * 500])
def test_decode_encode_round_trips(tok, text):
    assert tok.decode(tok.encode(text)) == text


def test_encoding_uses_the_learned_merges(tok):
    text = pydoc_text(50_000, 3000)
    assert len(tok.encode(text)) < 0.8 * len(text.encode("utf-8"))


def test_special_tokens_are_disallowed_by_default_and_named_in_the_error(tok):
    with pytest.raises(ValueError, match=r"text: contains the special token '<\|endoftext\|>'"):
        tok.encode(f"a{EOS}b")


def test_allowed_special_encodes_one_id_and_disallowed_empty_encodes_bytes(tok):
    assert tok.encode(f"a{EOS}b", allowed_special={EOS}) == [97, 298, 98]
    ordinary = tok.encode(f"a{EOS}b", disallowed_special=())
    assert 298 not in ordinary and tok.decode(ordinary) == f"a{EOS}b"


def test_only_the_allowed_special_tokens_are_encoded_as_such(tok):
    with pytest.raises(ValueError, match="<|pad|>"):
        tok.encode(f"{EOS}<|pad|>", allowed_special={EOS})
    ids = tok.encode(f"{EOS}<|pad|>", allowed_special={EOS}, disallowed_special=())
    assert ids[0] == 298 and 299 not in ids


def test_encode_batch_matches_encode_ordinary(tok):
    texts = [ODD_TEXT, "", pydoc_text(9000, 500), "a b c"]
    assert tok.encode_batch(texts) == [tok.encode_ordinary(t) for t in texts]


def test_save_load_round_trip(tok, tmp_path):
    path = tok.save(tmp_path / "tok.json")
    again = BPETokenizer.load(path, backend=tok.backend)
    assert again.merges == tok.merges and again.special_tokens == tok.special_tokens
    assert again.pattern == tok.pattern
    assert again.encode(ODD_TEXT) == tok.encode(ODD_TEXT)


def test_special_tokens_in_training_text_are_not_merged_into_pieces():
    text = f"ab{EOS}ab{EOS}" * 50
    tok = BPETokenizer(backend="reference").train(text, 270, [EOS])
    assert all(b"<|" not in v and b"|>" not in v for v in tok.vocab[256:])


@pytest.mark.parametrize("pattern", ["gpt2", "gpt4", r"\w+|\s+|[^\w\s]+"])
def test_patterns_round_trip(pattern):
    tok = BPETokenizer(pattern, backend="reference").train(stdlib_source(3000), 280)
    assert tok.decode(tok.encode(ODD_TEXT)) == ODD_TEXT


def test_merges_never_cross_a_pattern_boundary():
    tok = BPETokenizer("gpt2", backend="reference").train("a b " * 200, 300)
    assert all(not (v.endswith(b" ") and len(v.strip()) > 0) for v in tok.vocab[256:])


@pytest.mark.parametrize("bad, match", [
    (dict(text=b"bytes", vocab_size=300), "text: expected a str"),
    (dict(text="abc", vocab_size=255), "vocab_size: must be at least 256"),
    (dict(text="abc", vocab_size=257, special_tokens=["<a>", "<b>"]), "vocab_size: .*258"),
    (dict(text="abc", vocab_size=300.0), "vocab_size: expected an int"),
    (dict(text="abc", vocab_size=300, special_tokens=["<a>", "<a>"]), "special_tokens: dup"),
    (dict(text="abc", vocab_size=300, special_tokens=[""]), "special_tokens: each"),
])
def test_train_rejects_bad_input_naming_the_argument(bad, match):
    with pytest.raises(ValueError, match=match):
        BPETokenizer(backend="reference").train(**bad)


def test_encode_and_decode_reject_bad_input_naming_the_argument(tok):
    with pytest.raises(ValueError, match="text: expected a str"):
        tok.encode(123)
    with pytest.raises(ValueError, match="text: not encodable as UTF-8"):
        tok.encode("a\ud800b")
    with pytest.raises(ValueError, match=r"ids: 300 is not a token id in \[0, 300\)"):
        tok.decode([1, 300])
    with pytest.raises(ValueError, match="ids: -1"):
        tok.decode([-1])
    with pytest.raises(ValueError, match="allowed_special: not special tokens"):
        tok.encode("a", allowed_special={"<|nope|>"})
    with pytest.raises(ValueError, match="texts: expected a list"):
        tok.encode_batch("abc")


def test_bad_pattern_and_backend_are_named():
    with pytest.raises(ValueError, match="pattern:"):
        BPETokenizer(pattern="")
    with pytest.raises(ValueError, match="backend"):
        BPETokenizer(backend="nope")


def test_load_rejects_a_file_of_another_format(tmp_path):
    (tmp_path / "x.json").write_text('{"format": "other"}')
    with pytest.raises(ValueError, match="path: .* is not a hubkit-bpe file"):
        BPETokenizer.load(tmp_path / "x.json")
