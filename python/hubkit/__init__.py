"""hubkit: learn deep learning by building it.

Every topic ships a readable reference implementation, optimized versions
(C++, CUDA, Triton) registered as real torch ops, layers built on them, and
exercises that a checker grades for correctness and speed.

Example:
    >>> import torch, hubkit
    >>> "reference" in hubkit.ops.available_backends()
    True
    >>> y = hubkit.ops.bias_gelu(torch.zeros(2, 3), torch.zeros(3))
    >>> y.shape
    torch.Size([2, 3])

Importing hubkit never imports triton, mujoco, gymnasium or transformers:
topic modules import them when they are used.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hubkit")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+source"

import importlib  # noqa: E402

from hubkit import nn, ops  # noqa: E402  (the public facades)

# Topic slices load on first use (`hubkit.rl.ReplayBuffer`), so `import hubkit`
# stays light; `hubkit.envs` imports gymnasium and registers the hubkit/ envs.
_SLICES = ("activations", "attention", "basics", "check", "cnn", "curriculum", "envs",
           "peft", "rl")


def __getattr__(name: str):
    if name in _SLICES:
        return importlib.import_module(f"hubkit.{name}")
    raise AttributeError(f"module 'hubkit' has no attribute {name!r}")


__all__ = ["__version__", "nn", "ops", *_SLICES]
