"""The Examples in the rnn slice's docstrings run and give what they show."""

import doctest
import importlib

import pytest

MODULES = ["reference", "ops", "layers", "lessons", "sentiment", "train"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_pass(name):
    module = importlib.import_module(f"hubkit.rnn.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
