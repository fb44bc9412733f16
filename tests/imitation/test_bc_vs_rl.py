"""BC against PPO at equal environment steps (hubkit.imitation.bc_vs_rl)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.mujoco
pytest.importorskip("mujoco")
pytest.importorskip("gymnasium")
try:
    from hubkit.envs.vector import load_extension

    load_extension()
except ImportError:
    pytest.skip("hubkit._mujoco was not built", allow_module_level=True)

from hubkit.imitation.bc_vs_rl import bc_at, ppo_at  # noqa: E402


@pytest.mark.slow
def test_bc_from_the_reach_controller_beats_ppo_at_a_few_thousand_steps():
    assert bc_at(2048) > ppo_at(2048) + 2.0  # returns are negative distances, ~-4 to -10
