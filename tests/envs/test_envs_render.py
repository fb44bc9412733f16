"""render_mode="rgb_array" through mujoco.Renderer, on a headless OpenGL backend (EGL or OSMesa)."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.mujoco
pytest.importorskip("mujoco")
gym = pytest.importorskip("gymnasium")
try:
    from hubkit.envs.vector import load_extension

    load_extension()
except ImportError:
    pytest.skip("hubkit._mujoco was not built", allow_module_level=True)

CHECKS = Path(__file__).with_name("render_checks.py")
PROBE = ("import mujoco; m = mujoco.MjModel.from_xml_string('<mujoco/>'); "
         "r = mujoco.Renderer(m, 8, 8); r.update_scene(mujoco.MjData(m)); r.render()")


def _env_with(backend: str) -> dict:
    return {**os.environ, "MUJOCO_GL": backend, "PYOPENGL_PLATFORM": backend}


@functools.cache
def headless_backend() -> tuple[str | None, str]:
    """The first of EGL, OSMesa whose GL context opens here, and why the others failed."""
    why = []
    for backend in ("egl", "osmesa"):
        r = subprocess.run([sys.executable, "-c", PROBE], env=_env_with(backend),
                           capture_output=True, text=True, timeout=120)
        if r.returncode == 0:
            return backend, ""
        why.append(f"{backend}: {(r.stderr.strip().splitlines() or ['?'])[-1]}")
    return None, "; ".join(why)


def _run_checks(name: str) -> None:
    backend, why = headless_backend()
    if backend is None:
        pytest.skip(f"no headless OpenGL backend could be initialized ({why}); on Debian/Ubuntu "
                    "apt-get install libegl1 libgl1-mesa-dri (EGL) or libosmesa6 (OSMesa)")
    r = subprocess.run([sys.executable, str(CHECKS), name], env=_env_with(backend),
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), \
        f"MUJOCO_GL={backend}:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"


def test_every_single_env_passes_check_env_with_rgb_array_render():
    _run_checks("check_env")


def test_rgb_array_frame_equals_gymnasiums_from_the_same_state():
    _run_checks("frames")


@pytest.mark.parametrize("mode", ["human", "depth_array"])
def test_unsupported_render_mode_is_a_value_error_naming_it(mode):
    from hubkit.envs.vector import MujocoEnv

    with pytest.raises(ValueError, match="render_mode"):
        MujocoEnv("Hopper", render_mode=mode)


def test_render_without_render_mode_returns_none_with_a_warning():
    import hubkit.envs  # noqa: F401

    env = gym.make("hubkit/Hopper-v5").unwrapped
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="render_mode"):
        assert env.render() is None


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"camera_name": "nope"}, "camera_name"), ({"camera_id": 5}, "camera_id"),
    ({"camera_id": 0, "camera_name": "track"}, "camera_id or camera_name"),
    ({"width": 0}, "width")])
def test_bad_camera_or_size_arguments_raise(kwargs, match):
    from hubkit.envs.vector import MujocoEnv

    with pytest.raises(ValueError, match=match):
        MujocoEnv("Hopper", render_mode="rgb_array", **kwargs)


def test_a_failed_gl_context_is_not_retried_so_the_next_env_cannot_abort(monkeypatch):
    # Without a display, a second mujoco.Renderer after a failed GLFW start aborts the
    # process; every later render must raise the first, clear error instead.
    import mujoco

    from hubkit.envs import render
    from hubkit.envs.vector import MujocoEnv

    monkeypatch.setattr(render, "_NO_GL", [])
    calls = []

    def no_context(*args, **kwargs):
        calls.append(args)
        raise mujoco.FatalError("gladLoadGL error")

    monkeypatch.setattr(mujoco, "Renderer", no_context)
    for task in ("HalfCheetah", "Hopper"):
        env = MujocoEnv(task, render_mode="rgb_array")
        env.reset(seed=0)
        with pytest.raises(RuntimeError, match="needs an OpenGL context.*MUJOCO_GL=egl"):
            env.render()
    assert len(calls) == 1
