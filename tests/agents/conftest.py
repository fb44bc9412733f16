"""Fixtures for the agents tests: a tiny random GPT-2 folder, written once per session."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A randomly initialised two-layer GPT-2 with a byte-level tokenizer (no download)."""
    pytest.importorskip("transformers")
    from hubkit.agents.local import write_tiny_gpt2

    return write_tiny_gpt2(tmp_path_factory.mktemp("tiny-gpt2"))
