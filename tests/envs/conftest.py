"""Fixtures for the envs tests."""

from __future__ import annotations

import pytest
from envs_parity import run_gym_parity


@pytest.fixture(autouse=True)
def _run_in_tmp_cwd(tmp_path, monkeypatch):
    """Run every envs test in an empty folder: Gymnasium's own half_cheetah.xml makes
    MuJoCo append a deprecation warning to MUJOCO_LOG.TXT in the current directory."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def gym_parity():
    """run_gym_parity, after skipping if mujoco or gymnasium is missing."""
    pytest.importorskip("mujoco")
    pytest.importorskip("gymnasium")
    return run_gym_parity
