"""One CPU thread for the language-model tests: their tensors are tiny, and on a shared
machine a second thread only adds synchronisation waits (10x slower steps measured)."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
