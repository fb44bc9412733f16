"""The Examples in the lm slice's docstrings run and give what they show."""

import doctest
import importlib

import pytest

MODULES = ["data", "model", "sampling", "reference", "bert"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_pass(name):
    module = importlib.import_module(f"hubkit.lm.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
