"""Pictures of a hubkit env: `render_mode="rgb_array"` through `mujoco.Renderer`.

Rendering needs an OpenGL context. MuJoCo picks its backend from the
environment variable MUJOCO_GL when `mujoco` is first imported: on a machine
without a display use `MUJOCO_GL=egl` (a GPU, or Mesa's software EGL;
Debian/Ubuntu packages libegl1 libgl1-mesa-dri) or `MUJOCO_GL=osmesa`
(software; libosmesa6). The camera is Gymnasium's v5 one: a free camera placed
by the task's default camera config, unless `camera_id` or `camera_name`
picks one of the model's cameras, so frames match Gymnasium's pixel for pixel.

Shapes: frame (H, W, 3) uint8, H = height, W = width.
"""

from __future__ import annotations

import os

import numpy as np

DEFAULT_SIZE = 480
"""Gymnasium's default frame width and height."""

_NO_GL: list[str] = []
"""Why this process could not open an OpenGL context (empty until a render fails)."""

DEFAULT_CAMERA_CONFIG = {
    "HalfCheetah": {"distance": 4.0},
    "Hopper": {"trackbodyid": 2, "distance": 3.0, "lookat": (0.0, 0.0, 1.15), "elevation": -20.0},
    "Walker2d": {"trackbodyid": 2, "distance": 4.0, "lookat": (0.0, 0.0, 1.15),
                 "elevation": -20.0},
    "Ant": {"distance": 4.0},
    "Reacher": {"trackbodyid": 0},
}
"""Gymnasium v5's free-camera settings per task (MjvCamera attribute -> value)."""


def _camera_id(model, camera_id: int | None, camera_name: str | None) -> int:
    """-1 for the free camera, else the index of the model camera asked for."""
    import mujoco

    if camera_id is not None and camera_name is not None:
        raise ValueError("give camera_id or camera_name, not both")
    if camera_name is not None:
        found = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, camera_name)
        if found < 0:
            raise ValueError(f"camera_name {camera_name!r} is not a camera of this model")
        return found
    if camera_id is not None and not -1 <= camera_id < model.ncam:
        raise ValueError(f"camera_id must be in [-1, {model.ncam}), got {camera_id}")
    return -1 if camera_id is None else int(camera_id)


class FrameRenderer:
    """Draws (qpos, qvel) states of one model as RGB frames; the GL context opens on first use.

    Args:
        model: the task's `mujoco.MjModel` (its offscreen buffer is grown to fit).
        width, height: frame size in pixels.
        camera_id, camera_name: a model camera; None for the free camera.
        camera_config: free-camera settings, e.g. {"distance": 4.0}.
    """

    def __init__(self, model, width: int = DEFAULT_SIZE, height: int = DEFAULT_SIZE,
                 camera_id: int | None = None, camera_name: str | None = None,
                 camera_config: dict | None = None):
        import mujoco

        for name, value in (("width", width), ("height", height)):
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.model, self.width, self.height = model, int(width), int(height)
        self.camera_id = _camera_id(model, camera_id, camera_name)
        self.camera_config = dict(camera_config or {})
        self.data = mujoco.MjData(model)
        self.renderer = None
        self.camera = None

    def _open(self) -> None:
        import mujoco

        vis = self.model.vis.global_
        vis.offwidth, vis.offheight = max(vis.offwidth, self.width), max(vis.offheight, self.height)
        if _NO_GL:
            raise RuntimeError(_NO_GL[0])
        try:
            self.renderer = mujoco.Renderer(self.model, self.height, self.width, max_geom=1000)
        except Exception as err:  # GLFW, EGL and OSMesa each fail in their own way
            # subtle: after a failed GLFW start a second mujoco.Renderer aborts the whole
            # process (libc++abi: recursive initialization), so every later render in this
            # process repeats this error instead of trying again. MUJOCO_GL is read only when
            # mujoco is imported, so a retry could not succeed anyway.
            _NO_GL.append(
                f"render_mode='rgb_array' needs an OpenGL context and none could be created "
                f"(MUJOCO_GL={os.environ.get('MUJOCO_GL')!r}: {err}). Without a display, set "
                "MUJOCO_GL=egl or MUJOCO_GL=osmesa before importing mujoco "
                "(Debian/Ubuntu: apt-get install libegl1 libgl1-mesa-dri, or libosmesa6).")
            raise RuntimeError(_NO_GL[0]) from err
        self.camera = self._make_camera()

    def _make_camera(self):
        import mujoco

        # Gymnasium's free camera: centred on the geoms at the first frame, then its config.
        cam = mujoco.MjvCamera()
        if self.camera_id >= 0:
            cam.type, cam.fixedcamid = mujoco.mjtCamera.mjCAMERA_FIXED, self.camera_id
            return cam
        cam.type, cam.fixedcamid = mujoco.mjtCamera.mjCAMERA_FREE, -1
        cam.lookat[:] = np.median(self.data.geom_xpos, axis=0)
        cam.distance = self.model.stat.extent
        for key, value in self.camera_config.items():
            if isinstance(value, (tuple, list, np.ndarray)):
                getattr(cam, key)[:] = value
            else:
                setattr(cam, key, value)
        return cam

    def render(self, qpos: np.ndarray, qvel: np.ndarray) -> np.ndarray:
        """The frame of state (qpos (nq,), qvel (nv,)); returns (H, W, 3) uint8."""
        import mujoco

        self.data.qpos[:], self.data.qvel[:] = qpos, qvel
        mujoco.mj_forward(self.model, self.data)
        if self.renderer is None:
            self._open()
        self.renderer.update_scene(self.data, camera=self.camera)
        return self.renderer.render()

    def close(self) -> None:
        """Free the GL context (a later render opens a new one)."""
        if self.renderer is not None:
            self.renderer.close()
            self.renderer = None
