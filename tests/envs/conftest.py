"""Fixtures for the envs tests."""

from __future__ import annotations

import pytest
from envs_parity import run_gym_parity


@pytest.fixture
def gym_parity():
    """run_gym_parity, after skipping if mujoco or gymnasium is missing."""
    pytest.importorskip("mujoco")
    pytest.importorskip("gymnasium")
    return run_gym_parity
