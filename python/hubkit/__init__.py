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

import importlib

# The public facades (`hubkit.ops`, `hubkit.nn`) and the topic slices
# (`hubkit.rl.ReplayBuffer`) load on first use, so `import hubkit` does not
# import torch: the light CLI commands (`hubkit --version`, `list`, `hint`)
# answer in a fraction of a second. `hubkit.envs` imports gymnasium and
# registers the hubkit/ envs.
_FACADES = ("nn", "ops")
# The name on the package index ("hubkit" there is an unrelated project).
DISTRIBUTION = "hubkit-learn"
_SLICES = ("activations", "attention", "basics", "check", "cnn", "curriculum", "envs",
           "peft", "rl", "rnn", "tokenizers")


def _version() -> str:
    """The installed distribution's version (importlib.metadata is slow to import: lazy)."""
    from importlib.metadata import PackageNotFoundError, version

    # subtle: an install made before the rename is still called "hubkit"; scanning
    # every installed distribution instead would take seconds.
    for name in (DISTRIBUTION, "hubkit"):
        try:
            return version(name)
        except PackageNotFoundError:
            continue
    return "0.0.0+source"  # running from a source tree without an install


def __getattr__(name: str):
    if name == "__version__":
        return _version()
    if name in _FACADES or name in _SLICES:
        return importlib.import_module(f"hubkit.{name}")
    raise AttributeError(f"module 'hubkit' has no attribute {name!r}")


__all__ = ["__version__", *_FACADES, *_SLICES]
