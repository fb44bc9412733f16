"""Export a `BPETokenizer` to tiktoken and to Hugging Face `tokenizers` JSON.

tiktoken stores ranks (the bytes of each token -> its id) and merges by
rank; Hugging Face stores the merges as pairs of strings, bytes mapped to
printable characters by GPT-2's byte-to-unicode table. Both need each token's
bytes to be unique; BPE can in rare cases learn the same bytes twice
("ab" + "c" and "a" + "bc"), and then the export raises.

Example:
    >>> from hubkit.tokenizers import BPETokenizer
    >>> tok = BPETokenizer(backend="reference").train("hello hello world", 262)
    >>> byte_to_unicode()[ord(" ")]
    'Ġ'
"""

from __future__ import annotations

import functools
import os
from pathlib import Path


@functools.cache
def byte_to_unicode() -> dict[int, str]:
    """GPT-2's map from the 256 bytes to printable characters (spaces and controls shifted)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
                 *range(ord("®"), ord("ÿ") + 1)]
    table, shift = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:  # subtle: the unprintable bytes take code points 256, 257, ... in byte order
            table[b] = chr(256 + shift)
            shift += 1
    return table


def _ranks(tok) -> dict[bytes, int]:
    ranks = {token: i for i, token in enumerate(tok.vocab)}
    if len(ranks) != len(tok.vocab):
        raise ValueError("tok: two ids have the same bytes; neither tiktoken nor tokenizers "
                         "can represent that vocabulary")
    return ranks


def to_tiktoken(tok, name: str = "hubkit"):
    """A `tiktoken.Encoding` with tok's ranks, split pattern and special tokens."""
    try:
        import tiktoken
    except ImportError as err:
        raise ImportError("to_tiktoken needs tiktoken: `pip install tiktoken` "
                          "(or `pip install 'hubkit-learn[llm]'`)") from err
    return tiktoken.Encoding(name, pat_str=tok.pattern, mergeable_ranks=_ranks(tok),
                             special_tokens=dict(tok.special_tokens))


def _as_text(token: bytes) -> str:
    table = byte_to_unicode()
    return "".join(table[b] for b in token)


def to_huggingface(tok, path: str | os.PathLike) -> Path:
    """Write tok as a `tokenizers` JSON file that PreTrainedTokenizerFast(tokenizer_file=) loads.

    The pipeline: split by tok's pattern (each match its own piece), map bytes
    to GPT-2's printable characters, BPE with tok's merges; the decoder maps back.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers

    vocab = {_as_text(token): i for token, i in _ranks(tok).items()}
    merges = [(_as_text(tok.vocab[a]), _as_text(tok.vocab[b])) for (a, b), _ in tok.merges]
    hf = Tokenizer(models.BPE(vocab=vocab, merges=merges, ignore_merges=False))
    hf.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(tok.pattern), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    hf.decoder = decoders.ByteLevel()
    specials = sorted(tok.special_tokens, key=tok.special_tokens.get)
    hf.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    path = Path(path)
    hf.save(str(path))
    return path


def other_subword_models(text: str, vocab_size: int, sample: str) -> dict[str, list[str]]:
    """How WordPiece, Unigram (SentencePiece) and byte-level BPE, trained on `text`, cut `sample`.

    WordPiece and Unigram are trained with Hugging Face `tokenizers` (hubkit
    builds only BPE from scratch); BPE is hubkit's own, shown as the text of
    each token. WordPiece marks word-inner pieces with "##"; Unigram (as in
    SentencePiece) marks a leading space with "▁".

    Returns:
        {"bpe": pieces, "wordpiece": pieces, "unigram": pieces}
    """
    from hubkit.tokenizers.tokenizer import BPETokenizer
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    wordpiece = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    wordpiece.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    wordpiece.train_from_iterator([text], trainers.WordPieceTrainer(
        vocab_size=vocab_size, special_tokens=["[UNK]"], show_progress=False))
    unigram = Tokenizer(models.Unigram())
    unigram.pre_tokenizer = pre_tokenizers.Metaspace()
    unigram.train_from_iterator([text], trainers.UnigramTrainer(
        vocab_size=vocab_size, unk_token="<unk>", special_tokens=["<unk>"], show_progress=False))
    bpe = BPETokenizer("gpt4").train(text, max(vocab_size, 256))
    return {"bpe": [bpe.decode_bytes([i]).decode("utf-8", "backslashreplace")
                    for i in bpe.encode_ordinary(sample)],
            "wordpiece": wordpiece.encode(sample).tokens,
            "unigram": unigram.encode(sample).tokens}
