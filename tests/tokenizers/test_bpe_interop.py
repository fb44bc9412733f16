"""Exports: tiktoken and Hugging Face encode token for token like hubkit."""

from __future__ import annotations

import pytest
from bpe_corpora import ODD_TEXT, pydoc_text, stdlib_source

from hubkit.tokenizers import BPETokenizer
from hubkit.tokenizers.interop import byte_to_unicode

EOS = "<|endoftext|>"
SAMPLES = [ODD_TEXT, pydoc_text(40_000, 6000), stdlib_source(4000), "", "   \n\n\t",
           "1234567890 3.14159 $$$ ...!!! ?!", f"before{EOS}after"]


@pytest.fixture(scope="module", params=["gpt2", "gpt4"])
def tok(request) -> BPETokenizer:
    text = pydoc_text(size=10_000) + stdlib_source(3000)
    return BPETokenizer(request.param, backend="reference").train(text, 340, [EOS])


def test_byte_to_unicode_is_gpt2_table():
    table = byte_to_unicode()
    assert len(set(table.values())) == 256
    assert table[ord("a")] == "a" and table[ord(" ")] == "Ġ" and table[ord("\n")] == "Ċ"


@pytest.mark.parametrize("text", SAMPLES)
def test_tiktoken_export_encodes_token_for_token(tok, text):
    tiktoken = pytest.importorskip("tiktoken", reason="tiktoken is not installed")
    enc = tok.to_tiktoken()
    assert isinstance(enc, tiktoken.Encoding) and enc.n_vocab == tok.vocab_size
    assert enc.encode(text, allowed_special="all") == tok.encode(text, allowed_special="all")
    assert enc.encode(text, disallowed_special=()) == tok.encode(text, disallowed_special=())
    assert enc.decode(tok.encode(text, allowed_special="all")) == text


@pytest.mark.parametrize("text", SAMPLES)
def test_huggingface_export_loads_in_transformers_and_encodes_identically(tok, text, tmp_path):
    transformers = pytest.importorskip("transformers", reason="transformers is not installed")
    path = tok.to_huggingface(tmp_path / "tokenizer.json")
    hf = transformers.PreTrainedTokenizerFast(tokenizer_file=str(path))
    ids = hf.encode(text, add_special_tokens=False)
    assert ids == tok.encode(text, allowed_special="all")
    assert hf.decode(ids) == text


def test_wordpiece_and_unigram_are_shown_through_hugging_face_tokenizers():
    pytest.importorskip("tokenizers", reason="Hugging Face tokenizers is not installed")
    from hubkit.tokenizers.interop import other_subword_models

    sample = "Tokenization of sentences"
    pieces = other_subword_models(pydoc_text(size=20_000), 400, sample)
    assert "".join(pieces["bpe"]) == sample
    assert any(p.startswith("##") for p in pieces["wordpiece"])  # word-inner pieces
    assert "".join(pieces["unigram"]).replace("▁", " ").strip() == sample
