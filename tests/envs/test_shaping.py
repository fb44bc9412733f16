"""Potential-based shaping keeps the optimal policy; other shapings change it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hubkit.envs.shaping import GRID, compare, distance_to_goal, main, shaped
from hubkit.rl.mdp import gridworld, q_values, value_iteration


def test_potential_shaping_shifts_q_by_exactly_minus_phi():
    base = gridworld(GRID, slip=0.1, gamma=0.9)
    V, _ = value_iteration(base)
    Vs, _ = value_iteration(shaped(base, GRID, "potential", weight=0.3))
    phi = np.where(base.terminal, 0.0, -0.3 * distance_to_goal(GRID))
    live = ~base.terminal
    np.testing.assert_allclose((q_values(shaped(base, GRID, "potential", 0.3), Vs)
                                + phi[:, None])[live], q_values(base, V)[live], atol=1e-8)


@pytest.mark.parametrize("slip", [0.0, 0.1])
def test_potential_keeps_the_optimal_policy_and_dense_and_bonus_change_it(slip):
    r = compare(slip=slip)
    assert r["potential"]["same_actions_as_sparse"] == 1.0
    assert r["potential"]["true_value_from_start"] == pytest.approx(
        r["sparse"]["true_value_from_start"], abs=1e-9)
    assert r["sparse"]["reach_probability"] > 0.9
    for kind in ("dense", "bonus"):
        assert r[kind]["reach_probability"] < 0.5, kind
        assert r[kind]["true_value_from_start"] < r["sparse"]["true_value_from_start"] - 0.2


def test_unknown_shaping_raises():
    with pytest.raises(ValueError, match="kind"):
        shaped(gridworld(GRID), GRID, "curiosity")


def test_cli_writes_results_and_plot(tmp_path):
    pytest.importorskip("matplotlib")
    main(["--out", str(tmp_path), "--quiet"])
    table = json.loads((tmp_path / "results.json").read_text())["shapings"]
    assert table["potential"]["reach_probability"] == pytest.approx(1.0)
    assert (tmp_path / "shaping.png").read_bytes()[:4] == b"\x89PNG"
