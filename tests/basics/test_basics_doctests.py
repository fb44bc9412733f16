"""The Examples in the basics docstrings run and give what they show."""

import doctest
import importlib

import pytest

MODULES = ["autograd", "calculus", "matmul", "optim", "reference", "regularization", "schedules",
           "train", "linalg", "recommender", "probability", "naive_bayes", "pytools",
           "numpy_drills", "dataprep", "dashboard", "perceptron", "tensorlib", "mnist",
           "torch_mlp", "profiling"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_pass(name):
    module = importlib.import_module(f"hubkit.basics.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
