"""Attention exercises, beyond the generic verdict tests in tests/check."""

from __future__ import annotations

import pytest
import torch

from hubkit.check import get_exercise
from hubkit.check.runner import run_check


@pytest.mark.triton
def test_triton_exercise_is_interpreted_when_the_caller_did_not_set_triton_interpret(
        monkeypatch):
    # `hubkit check` from a plain shell: the child must still run Triton interpreted.
    if torch.cuda.is_available():
        pytest.skip("a GPU runs triton compiled")
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    ex = get_exercise("attention_triton_fwd")
    result = run_check(ex, ex.solution_files(), impl="solution", fast=True, timing=False)
    assert result.status == "pass", f"{result.status}: {result.message}"
    assert result.backend == "triton-interp"
