"""Camera observations on Reacher and the pixel CNN (hubkit.envs.camera)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

pytestmark = pytest.mark.mujoco
pytest.importorskip("mujoco")
torch = pytest.importorskip("torch")

from hubkit.envs.camera import ConvPolicy, stacked  # noqa: E402

PROBE = ("import mujoco; m = mujoco.MjModel.from_xml_string('<mujoco/>'); "
         "r = mujoco.Renderer(m, 8, 8); r.update_scene(mujoco.MjData(m)); r.render()")
FRAMES = """
import json, numpy as np
from hubkit.envs.camera import ReachCamera
from hubkit.envs.reference import ReferenceVectorEnv
env = ReferenceVectorEnv("Reacher", 1, seed=0); env.reset(seed=0)
cam = ReachCamera(env.model, 32)
rgb, depth = cam.render(env.datas[0])
f0 = cam.frame(env.datas[0])
for _ in range(10):
    env.step(np.ones((1, 2)))
f1 = cam.frame(env.datas[0])
print(json.dumps({"rgb": [list(rgb.shape), str(rgb.dtype)], "depth": [list(depth.shape),
      str(depth.dtype), float(depth.min()), float(depth.max())], "frame": list(f0.shape),
      "moved": float(np.abs(f1 - f0).max())}))
"""


def _gl_env() -> dict:
    for backend in ("egl", "osmesa"):
        env = {**os.environ, "MUJOCO_GL": backend, "PYOPENGL_PLATFORM": backend}
        r = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                           timeout=120)
        if r.returncode == 0:
            return env
    pytest.skip("no headless OpenGL context (EGL or OSMesa) could be opened here")


@pytest.mark.slow  # a fresh process opening a GL context: over a minute on a loaded CPU
def test_camera_gives_rgb_and_depth_that_follow_the_arm():
    out = subprocess.run([sys.executable, "-c", FRAMES], env=_gl_env(), capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["rgb"] == [[32, 32, 3], "uint8"]
    assert got["depth"][:2] == [[32, 32], "float32"]
    assert 0 < got["depth"][2] < got["depth"][3]  # the arm is nearer than the floor
    assert got["frame"] == [32, 32, 4] and got["moved"] > 0.1


def test_stacked_repeats_the_first_frame_and_keeps_the_newest_last():
    frames = [np.full((2, 2, 4), t, np.float32) for t in range(3)]
    np.testing.assert_array_equal(stacked(frames[:1], 3)[0, 0], [0] * 12)
    np.testing.assert_array_equal(stacked(frames, 2)[0, 0], [1] * 4 + [2] * 4)


def test_conv_policy_maps_stacked_frames_to_bounded_actions():
    net = ConvPolicy(8, 32)
    a = net(torch.randn(5, 8, 32, 32))
    assert a.shape == (5, 2) and a.abs().max() <= 1
    assert net.act(np.zeros((32, 32, 8), np.float32)).shape == (2,)


@pytest.mark.slow
def test_cli_clones_the_reach_controller_from_pixels(tmp_path):
    cmd = [sys.executable, "-m", "hubkit.envs.camera", "--out", str(tmp_path), "--episodes",
           "2", "--eval-episodes", "1", "--epochs", "1", "--size", "32", "--quiet"]
    out = subprocess.run(cmd, env=_gl_env(), capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    table = json.loads((tmp_path / "results.json").read_text())["mean_final_distance"]
    assert set(table) == {"expert (state)", "cnn bc (pixels)", "zero torque"}
    assert (tmp_path / "frames.png").read_bytes()[:4] == b"\x89PNG"
