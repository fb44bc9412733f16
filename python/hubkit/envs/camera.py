"""Camera observations on the reach task: rgb and depth from `mujoco.Renderer`, a small CNN by BC.

A real arm often sees its target through a camera rather than reading its
coordinates. Here a top-down camera over Reacher's arena gives each step an
RGB image and a depth map; the last k frames are stacked (so motion is
visible, `hubkit.imitation.demos.stack_frames`) and a small CNN learns the
reach controller's torques by behavioral cloning (`hubkit.envs.controllers`).

Rendering needs an OpenGL context: set MUJOCO_GL=egl (or osmesa) before mujoco
is imported on a machine without a display (`hubkit.envs.render` says more).

Run: `MUJOCO_GL=egl python -m hubkit.envs.camera --out runs/camera`
(writes results.json and frames.png).

Shapes: frames (T, H, W, 4) float32 as (r, g, b, depth); stacked (T, H, W, 4 * k);
the CNN takes (B, 4 * k, H, W).
"""

from __future__ import annotations

import json

import numpy as np
import torch
import torch._dynamo  # noqa: F401
from torch import nn

from hubkit.envs.controllers import reach_policy
from hubkit.envs.reference import ReferenceVectorEnv, fingertip_offset

# subtle: torch's optimizers import torch._dynamo, which loads triton (and its LLVM) on first
# use; after Mesa's software EGL (its own LLVM) is up, that load segfaults. Importing
# torch._dynamo above, before any renderer exists, keeps the order safe.


class ReachCamera:
    """A top-down camera over Reacher's arena: `render(data)` -> (rgb (H, W, 3) uint8,
    depth (H, W) float32 in metres from the camera)."""

    def __init__(self, model, size: int = 48, distance: float = 0.6):
        import mujoco

        self.renderer = mujoco.Renderer(model, size, size)
        self.cam = mujoco.MjvCamera()
        self.cam.type = mujoco.mjtCamera.mjCAMERA_FREE
        self.cam.lookat[:], self.cam.distance = 0.0, distance
        self.cam.elevation, self.cam.azimuth = -90.0, 90.0

    def render(self, data) -> tuple[np.ndarray, np.ndarray]:
        self.renderer.disable_depth_rendering()
        self.renderer.update_scene(data, self.cam)
        rgb = self.renderer.render().copy()
        self.renderer.enable_depth_rendering()
        self.renderer.update_scene(data, self.cam)
        return rgb, self.renderer.render().copy()

    def frame(self, data) -> np.ndarray:
        """One (H, W, 4) float32 frame: rgb in [0, 1], depth minus the camera distance."""
        rgb, depth = self.render(data)
        return np.concatenate([rgb / 255.0, (depth - self.cam.distance)[..., None] * 10],
                              -1).astype(np.float32)


def stacked(history: list[np.ndarray], k: int) -> np.ndarray:
    """The last k frames of an episode, oldest first, repeating the first: (H, W, 4 * k)."""
    last = [history[max(len(history) - k + j, 0)] for j in range(k)]
    return np.concatenate(last, -1)


def rollout(policy, episodes: int, k: int, size: int, seed: int):
    """Run `policy(stacked frame (H, W, 4k), obs (10,)) -> action (2,)` on Reacher.

    Returns (stacked frames (T, H, W, 4k), expert actions (T, 2), final distances (episodes,)).
    """
    env = ReferenceVectorEnv("Reacher", 1, seed=seed)
    cam = ReachCamera(env.model, size)
    xs, ys, finals = [], [], []
    for e in range(episodes):
        obs = env.reset(seed=seed + e)
        history = [cam.frame(env.datas[0])]
        for _ in range(env.spec.max_episode_steps):
            x = stacked(history, k)
            xs.append(x)
            ys.append(reach_policy(obs)[0])
            obs = env.step(np.asarray(policy(x, obs[0]))[None])[0]
            history.append(cam.frame(env.datas[0]))
        finals.append(np.linalg.norm(fingertip_offset(env.model, env.datas[0])))
    return np.array(xs), np.array(ys), np.array(finals)


class ConvPolicy(nn.Module):
    """Two strided convolutions and a linear head: (B, C, H, W) -> actions (B, 2) in [-1, 1]."""

    def __init__(self, channels: int, size: int = 48):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(channels, 16, 5, stride=2, padding=2), nn.ReLU(),
                                  nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU())
        n = 32 * ((size + 3) // 4) ** 2
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(n, 64), nn.ReLU(), nn.Linear(64, 2),
                                  nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.conv(x))

    def act(self, frame: np.ndarray) -> np.ndarray:
        """One stacked frame (H, W, C) -> action (2,)."""
        with torch.no_grad():
            x = torch.as_tensor(frame).permute(2, 0, 1)[None]  # (1, C, H, W)
            return self(x)[0].numpy()


def fit(xs: np.ndarray, ys: np.ndarray, epochs: int = 30, seed: int = 0,
        progress=None) -> ConvPolicy:
    """Behavioral cloning: minimize the squared error to the expert's actions (Adam)."""
    torch.manual_seed(seed)
    x = torch.as_tensor(xs).permute(0, 3, 1, 2)  # (T, C, H, W)
    y = torch.as_tensor(ys, dtype=torch.float32)
    net = ConvPolicy(x.shape[1], x.shape[2])
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=gen).split(64):
            loss = ((net(x[idx]) - y[idx]) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        if progress is not None:
            progress.update(loss=loss.item())
    return net


def build_parser():
    from hubkit import runlog

    p = runlog.parser("python -m hubkit.envs.camera", __doc__, "camera")
    p.add_argument("--episodes", type=int, default=30, help="expert episodes for BC")
    p.add_argument("--eval-episodes", type=int, default=20)
    p.add_argument("--frames", type=int, default=2, help="k, frames stacked")
    p.add_argument("--size", type=int, default=48, help="image height and width")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    return p


def main(argv: list[str] | None = None) -> None:
    """Collect expert images, clone with a CNN, compare final distances with expert and zero."""
    from hubkit import runlog

    args = build_parser().parse_args(argv)
    outputs = runlog.Outputs(args.out, args._run_name)
    torch.set_num_threads(1)
    k, n, s = args.frames, args.eval_episodes, args.size

    def expert(_x, o):
        return reach_policy(o[None])[0]

    xs, ys, _ = rollout(expert, args.episodes, k, s, args.seed)
    with runlog.tracker(args, outputs) as track, \
            runlog.Progress(args.epochs, "BC epoch", enabled=not args.quiet, tracker=track) as bar:
        net = fit(xs, ys, args.epochs, args.seed, progress=bar)
    seed = args.seed + 10_000
    table = {name: float(rollout(pol, n, k, s, seed)[2].mean()) for name, pol in
             (("expert (state)", expert), ("cnn bc (pixels)", lambda x, o: net.act(x)),
              ("zero torque", lambda x, o: np.zeros(2)))}
    summary = {"config": vars(args) | {"out": str(args.out)}, "frames_for_bc": len(xs),
               "mean_final_distance": table}
    outputs.path("results.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    save_frames(xs[:: max(len(xs) // 4, 1)][:4], str(outputs.path("frames.png")))
    for name, d in table.items():
        print(f"{name:16s} mean final distance {d:.4f} m")
    outputs.report()


def save_frames(xs: np.ndarray, path: str) -> str:
    """The newest frame's rgb and depth of a few stacked inputs (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(xs), figsize=(2 * len(xs), 4), squeeze=False)
    for j, x in enumerate(xs):
        axes[0, j].imshow(x[..., -4:-1])
        axes[1, j].imshow(x[..., -1], cmap="viridis")
        axes[0, j].axis("off")
        axes[1, j].axis("off")
    axes[0, 0].set_title("rgb")
    axes[1, 0].set_title("depth")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


if __name__ == "__main__":
    from hubkit import runlog

    runlog.run_main(main)
