"""Messages between the grader and the learner's process: plain data, never code.

Everything crossing the boundary is turned into a tree of Python primitives
(None, bool, int, float, complex, str, bytes, tuple, list, dict) before it is
pickled, and the grader unpickles the learner's replies with an Unpickler that
refuses every class (`safe_loads`): a reply can carry numbers and bytes, never
an object that runs code when it is read. Tensors and arrays travel as their
dtype, shape, strides and raw bytes, so strides (and views like a transpose)
survive the trip.

Tags (the first item of a tagged tuple) mark what a tuple stands for:
    "__t"  torch.Tensor          "__a"  numpy.ndarray      "__s"  numpy scalar
    "__g"  numpy Generator state "__dt" torch.dtype        "__sl" slice
    "__h"  a handle to an object living in the learner's process
    "__cb" a handle to a grader-side callable the learner may call back
    "__p"  a pointer: the tensor's address in the receiving process
    "__m"  a mirrored array or tensor (id, value): changes flow back after a call
    "__tu" a tuple (plain tuples mark tags)

Example:
    >>> import torch
    >>> x = torch.arange(6.0).reshape(2, 3).t()
    >>> y = decode(safe_loads(dumps(encode(x))))
    >>> torch.equal(x, y), y.stride()
    (True, (1, 3))
"""

from __future__ import annotations

import io
import pickle
from typing import Any

import numpy as np
import torch

MAX_MESSAGE = 1 << 31  # 2 GiB: a bigger reply is refused, not read


class WireError(ValueError):
    """Something that cannot cross the boundary (an object, a lambda) or a malformed message."""


class _NoClasses(pickle.Unpickler):
    def find_class(self, module, name):
        raise WireError(f"refused to load {module}.{name} from the learner's process")


def dumps(tree: Any) -> bytes:
    return pickle.dumps(tree, protocol=5)


def safe_loads(data: bytes) -> Any:
    """Unpickle primitives only; any class reference raises WireError."""
    return _NoClasses(io.BytesIO(data)).load()


def _span(shape, stride) -> int:
    """Number of storage elements a strided view reaches (0 for an empty view)."""
    if any(s == 0 for s in shape):
        return 0
    return 1 + sum((s - 1) * st for s, st in zip(shape, stride, strict=True))


def tensor_bytes(t: torch.Tensor) -> tuple:
    """("__t", dtype, shape, stride, device, requires_grad, raw bytes of the viewed span)."""
    t = t.detach()
    shape, stride = tuple(t.shape), tuple(t.stride())
    if any(st < 0 for st in stride):
        t, stride = t.contiguous(), tuple(t.contiguous().stride())
    cpu = t.cpu() if t.device.type != "cpu" else t
    n = _span(shape, stride)
    flat = cpu.as_strided((n,), (1,), cpu.storage_offset()).contiguous()
    raw = flat.view(torch.uint8).numpy().tobytes() if n else b""
    return ("__t", str(t.dtype).removeprefix("torch."), shape, stride, str(t.device),
            False, raw)


def tensor_from(tag: tuple, device: torch.device | str | None = None) -> torch.Tensor:
    _, dtype, shape, stride, dev, grad, raw = tag
    dt = _dtype(dtype)
    n = _span(shape, stride)
    if len(raw) != n * torch.empty((), dtype=dt).element_size():
        raise WireError(f"tensor bytes do not match its shape {shape} and strides {stride}")
    flat = torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(dt) if n else \
        torch.empty(0, dtype=dt)
    t = flat.as_strided(tuple(shape), tuple(stride), 0) if n else \
        torch.empty_strided(tuple(shape), tuple(stride), dtype=dt)
    target = device if device is not None else dev
    if str(target) != "cpu":
        t = t.to(target)
    return t.requires_grad_(bool(grad)) if dt.is_floating_point else t


def _dtype(name: str) -> torch.dtype:
    dt = getattr(torch, str(name), None)
    if not isinstance(dt, torch.dtype):
        raise WireError(f"unknown dtype {name!r}")
    return dt


def array_bytes(a: np.ndarray) -> tuple:
    if a.dtype.hasobject:
        raise WireError("arrays of Python objects cannot cross to the grader; use numbers")
    if any(st < 0 for st in a.strides) or a.strides == () or a.itemsize == 0:
        a = np.ascontiguousarray(a)
    shape, strides = a.shape, tuple(st // a.itemsize for st in a.strides)
    n = _span(shape, strides)
    if n and all(st % a.itemsize == 0 for st in a.strides):
        base = np.lib.stride_tricks.as_strided(a, (n,), (a.itemsize,))
        raw = np.ascontiguousarray(base).tobytes()
    else:
        a = np.ascontiguousarray(a)
        shape, strides = a.shape, tuple(st // max(a.itemsize, 1) for st in a.strides)
        raw = a.tobytes()
    return ("__a", a.dtype.str, tuple(shape), strides, raw)


def array_from(tag: tuple) -> np.ndarray:
    _, dtype, shape, strides, raw = tag
    dt = np.dtype(dtype)
    if dt.hasobject:
        raise WireError("object arrays are refused")
    n = _span(shape, strides)
    if len(raw) != n * dt.itemsize:
        raise WireError(f"array bytes do not match its shape {shape}")
    flat = np.frombuffer(bytearray(raw), dtype=dt) if n else np.empty(0, dtype=dt)
    if not n:
        return np.empty(shape, dtype=dt)
    return np.lib.stride_tricks.as_strided(flat, tuple(shape),
                                           tuple(s * dt.itemsize for s in strides)).copy() \
        if _overlaps(shape, strides) else \
        np.lib.stride_tricks.as_strided(flat, tuple(shape), tuple(s * dt.itemsize
                                                                  for s in strides))


def _overlaps(shape, strides) -> bool:
    """Broadcast views (stride 0) would share elements; hand out a private copy."""
    return any(st == 0 and s > 1 for s, st in zip(shape, strides, strict=True))


def encode(obj: Any, hook=None) -> Any:
    """Turn `obj` into primitives; `hook(obj)` may return a tag for what encode cannot."""
    if obj is None or isinstance(obj, (bool, int, float, complex, str, bytes)) and \
            type(obj) in (bool, int, float, complex, str, bytes):
        return obj
    if hook is not None:
        tagged = hook(obj)
        if tagged is not None:
            return tagged
    if isinstance(obj, torch.Tensor):
        tag = tensor_bytes(obj)
        return tag[:5] + (obj.requires_grad,) + tag[6:]
    if isinstance(obj, np.ndarray):
        return array_bytes(obj)
    if isinstance(obj, np.generic):
        return ("__s", obj.dtype.str, obj.tobytes())
    if isinstance(obj, (bool, int, float, complex, str, bytes)):  # subclasses (IntEnum, ...)
        return type(obj).__mro__[-2](obj) if not isinstance(obj, bool) else bool(obj)
    if isinstance(obj, torch.dtype):
        return ("__dt", str(obj).removeprefix("torch."))
    if isinstance(obj, slice):
        return ("__sl", encode(obj.start, hook), encode(obj.stop, hook), encode(obj.step, hook))
    if obj is Ellipsis:
        return ("__el",)
    if isinstance(obj, tuple):
        return ("__tu", [encode(v, hook) for v in obj])
    if isinstance(obj, list):
        return [encode(v, hook) for v in obj]
    if isinstance(obj, dict):
        return {encode(k, hook): encode(v, hook) for k, v in obj.items()}
    raise WireError(f"cannot send a {type(obj).__name__} between the grader and your code")


def decode(tree: Any, hook=None) -> Any:
    """Inverse of `encode`; `hook(tag)` resolves handle tags (returns NotImplemented if not)."""
    if isinstance(tree, list):
        return [decode(v, hook) for v in tree]
    if isinstance(tree, dict):
        return {decode(k, hook): decode(v, hook) for k, v in tree.items()}
    if not isinstance(tree, tuple):
        return tree
    if not tree or not isinstance(tree[0], str):
        raise WireError("malformed message: an untagged tuple")
    tag = tree[0]
    if hook is not None:
        got = hook(tree)
        if got is not NotImplemented:
            return got
    if tag == "__tu":
        return tuple(decode(v, hook) for v in tree[1])
    if tag == "__t":
        return tensor_from(tree)
    if tag == "__a":
        return array_from(tree)
    if tag == "__s":
        return np.frombuffer(tree[2], dtype=np.dtype(tree[1]))[0]
    if tag == "__dt":
        return _dtype(tree[1])
    if tag == "__sl":
        return slice(*(decode(v, hook) for v in tree[1:]))
    if tag == "__el":
        return Ellipsis
    raise WireError(f"malformed message: unknown tag {tag!r}")
