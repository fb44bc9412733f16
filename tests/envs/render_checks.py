"""Rendering checks, run by test_envs_render.py in a child process whose MUJOCO_GL
names a headless backend (MuJoCo reads it once, when mujoco is first imported).

    MUJOCO_GL=egl python tests/envs/render_checks.py check_env|frames

Exits 0 when every check holds; a failed assertion exits non-zero with its message.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np

TASKS = ["HalfCheetah", "Hopper", "Walker2d", "Ant", "Reacher"]


def check_env_with_render() -> None:
    """Gymnasium's env checker, render checks included, with its warnings as errors."""
    import gymnasium as gym
    from gymnasium.utils.env_checker import check_env

    import hubkit.envs  # noqa: F401

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # Gymnasium's own v5 envs declare the same unbounded observation space.
        warnings.filterwarnings("ignore", message=".*Box observation space m.*infinity")
        for task in TASKS:
            check_env(gym.make(f"hubkit/{task}-v5").unwrapped)  # makes rgb_array envs itself
            env = gym.make(f"hubkit/{task}-v5", render_mode="rgb_array")
            check_env(env.unwrapped)
            env.close()


def frames_match_gymnasium() -> None:
    """From the same state, hubkit's frame equals Gymnasium's pixel for pixel; a step moves it."""
    import gymnasium as gym

    import hubkit.envs  # noqa: F401

    for task in TASKS:
        ours = gym.make(f"hubkit/{task}-v5", render_mode="rgb_array", width=160, height=120)
        theirs = gym.make(f"{task}-v5", render_mode="rgb_array", width=160, height=120)
        ours.reset(seed=0)
        theirs.reset(seed=0)
        data = theirs.unwrapped.data
        ours.unwrapped.set_state(data.qpos, data.qvel)
        frame, want = ours.render(), theirs.render()
        assert frame.shape == (120, 160, 3) and frame.dtype == np.uint8, (task, frame.shape)
        assert frame.std() > 5, f"{task}: the frame is blank"
        np.testing.assert_array_equal(frame, want, err_msg=f"{task}: not Gymnasium's frame")
        for _ in range(5):
            ours.step(np.ones(ours.action_space.shape))
        assert not np.array_equal(ours.render(), frame), f"{task}: frame did not change"
        ours.close()
        theirs.close()


CHECKS = {"check_env": check_env_with_render, "frames": frames_match_gymnasium}

if __name__ == "__main__":
    CHECKS[sys.argv[1]]()
    print("ok")
