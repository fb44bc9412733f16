"""Tokenization (outline 5.2): byte-level BPE from scratch, with a C++ trainer.

Modules: `reference` (readable BPE training and encoding: the spec), `ops`
(reference and C++ backends), `tokenizer` (`BPETokenizer`: train, encode,
decode, save, load), `interop` (export to tiktoken and Hugging Face
`tokenizers`), `train` (`python -m hubkit.tokenizers.train`).

WordPiece (BERT) and SentencePiece (T5, Llama 2) are the other two common
subword schemes. WordPiece merges the pair that most raises the likelihood of
the training text (count(ab) / (count(a) count(b))) instead of the most
frequent one, and marks word-inner pieces with "##". SentencePiece treats
the text as a raw stream (spaces become "▁"), and usually trains a unigram
model: start from many pieces and prune those whose removal costs the least
likelihood. Both are shown through Hugging Face `tokenizers`
(`interop.other_subword_models(text, vocab_size, sample)` trains all three on
the same text and shows how each cuts `sample`); hubkit builds only BPE from
scratch.
"""

from hubkit.tokenizers.reference import GPT2_PATTERN, GPT4_PATTERN
from hubkit.tokenizers.tokenizer import BPETokenizer

__all__ = ["BPETokenizer", "GPT2_PATTERN", "GPT4_PATTERN"]
