"""Shared pytest setup.

Triton tests run on CPU through Triton's interpreter when there is no GPU;
TRITON_INTERPRET must be set before triton is first imported, so it is set
here, before any test module imports hubkit's kernels.
"""

from __future__ import annotations

import os

import pytest
import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")


def pytest_collection_modifyitems(config, items):
    skip_gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords and not torch.cuda.is_available():
            item.add_marker(skip_gpu)


@pytest.fixture
def gen() -> torch.Generator:
    """A seeded CPU generator, so every test's random data is reproducible."""
    return torch.Generator().manual_seed(0)
