"""Small offline corpora for the tokenizer tests: Python's own docs and sources."""

from __future__ import annotations

import inspect
import json

import pytest

from hubkit import _ext

ODD_TEXT = ("héllo wörld 世界 🤖🤖 naïve café\u200b  tabs\t\tand\r\nCRLF\n\n\n   "
            "Ωmega ﬁ ligature 12345678 it's I'LL 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 e\u0301 \x00\x7f end")


def pydoc_text(start: int = 0, size: int = 20_000) -> str:
    """A slice of the English text that ships with Python (pydoc_data.topics)."""
    import pydoc_data.topics as topics

    return "".join(topics.topics.values())[start:start + size]


def stdlib_source(size: int = 20_000) -> str:
    """Python source from the standard library (json's package)."""
    return inspect.getsource(json.decoder)[:size] + inspect.getsource(json.encoder)[:size]


def cpp_has_bpe() -> bool:
    return _ext.cpp_module() is not None and hasattr(_ext.cpp_module(), "bpe_train")


BACKENDS = ["reference", pytest.param("cpp", marks=pytest.mark.skipif(
    not cpp_has_bpe(), reason="hubkit._C with csrc/bpe is not built here"))]
