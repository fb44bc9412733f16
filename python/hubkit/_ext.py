"""Loading the compiled extensions, and what the build recorded about them.

`hubkit._C` (C++) and `hubkit._cuda` (CUDA) are optional: a machine without a
compiler installs hubkit with reference backends only. This module loads each
extension once, remembers why one could not load, and turns torch dtypes into
the integer codes the C++ side understands (csrc/common.h, enum DType).
"""

from __future__ import annotations

import functools
import importlib
import json
from importlib import resources
from types import ModuleType

import torch

# Must match enum class DType in csrc/common.h.
DTYPE_CODES = {
    torch.float32: 0,
    torch.float64: 1,
    torch.float16: 2,
    torch.bfloat16: 3,
    torch.uint8: 4,
    torch.int64: 5,
    torch.int32: 6,
    torch.bool: 7,
}


@functools.cache
def build_info() -> dict:
    """What CMake recorded at install time (see csrc/build_info.json.in)."""
    try:
        text = resources.files("hubkit").joinpath("_build_info.json").read_text()
    except (FileNotFoundError, OSError):
        return {"cpp": "no build record: hubkit was not installed with pip", "cuda": "unknown"}
    return json.loads(text)


@functools.cache
def _load(name: str) -> tuple[ModuleType | None, str | None]:
    try:
        return importlib.import_module(f"hubkit.{name}"), None
    except ImportError as err:
        return None, f"{type(err).__name__}: {err}"


def cpp_module() -> ModuleType | None:
    """`hubkit._C`, or None if it did not build or load."""
    return _load("_C")[0]


def cuda_module() -> ModuleType | None:
    """`hubkit._cuda`, or None if it did not build or load."""
    return _load("_cuda")[0]


def load_error(name: str) -> str | None:
    """Why `hubkit.<name>` could not be imported (None when it loaded)."""
    return _load(name)[1]


def dtype_code(dtype: torch.dtype) -> int:
    """The C++ code for a torch dtype; ValueError for one the kernels never take."""
    try:
        return DTYPE_CODES[dtype]
    except KeyError:
        raise ValueError(f"dtype {dtype} has no compiled kernel") from None


def cuda_launch(device: torch.device) -> tuple[int, int]:
    """(device index, current stream address) of `device`: the last two arguments of every
    hubkit._cuda launch, which sets that device for the launch and restores the caller's.

    Example:
        >>> cuda_launch(torch.device("cuda", 1))  # doctest: +SKIP
        (1, 94823645731232)
    """
    index = device.index if device.index is not None else torch.cuda.current_device()
    return index, torch.cuda.current_stream(device).cuda_stream
