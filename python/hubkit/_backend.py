"""Choosing the backend that runs an op: reference, cpp, cuda or triton.

Rules (ARCHITECTURE.md, rule 3):

* By default the tensor's device decides, following the op's own preference
  list (for example conv2d on CPU: cpp, then reference).
* `backend="cpp"` on a call, or `with hubkit.ops.use_backend("cpp"):` around
  calls, forces one. A forced backend that the op lacks, that cannot run on
  the tensor's device, or that is not available here raises; nothing falls
  back silently.
* The chosen name is passed into the torch op, so every result can say which
  backend produced it (`hubkit.ops.last_backend` is deliberately absent:
  callers that need the name call `resolve` themselves).
* Under torch.compile the choice is part of the compiled graph, and the graph is
  guarded on the `use_backend` setting: entering another `use_backend` block
  recompiles, and a backend that cannot run raises as it does eagerly.

Example:
    >>> import torch
    >>> from hubkit._backend import OpBackends, resolve
    >>> spec = OpBackends("demo", cpu=("reference",), cuda=("reference",))
    >>> resolve(spec, torch.device("cpu"))
    'reference'
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from hubkit import _ext

BACKENDS = ("reference", "cpp", "cuda", "triton")
# The distribution is "hubkit-learn": a bare "hubkit" on the index is an unrelated project.
_REINSTALL = ("`pip install --force-reinstall --no-deps hubkit-learn` (from a checkout: "
              "`pip install --force-reinstall --no-deps .`)")



class _Forced(threading.local):
    """The backend `use_backend` forces in this thread (None: choose by device)."""

    def __init__(self) -> None:
        # subtle: set per thread in __init__, not as a class attribute: torch.compile
        # guards on the per-thread instance attribute, and would not see a class default
        # being shadowed later.
        self.name: str | None = None


# subtle: a threading.local rather than a ContextVar, because torch.compile can read
# (and so guard on) an attribute of it, while ContextVar.get cannot be traced.
_forced = _Forced()


def forced_backend() -> str | None:
    """The backend forced by the innermost `use_backend` block in this thread, or None."""
    return _forced.name


class BackendUnavailableError(RuntimeError):
    """A backend was asked for by name but cannot run here; the message says how to get it."""


@dataclass(frozen=True)
class OpBackends:
    """Which backends implement an op, in order of preference per device type.

    Args:
        op: public name, used in error messages ("conv2d").
        cpu: backends that run on CPU tensors, best first.
        cuda: backends that run on CUDA tensors, best first.
        interpreted: backends that may also run on CPU tensors under
            TRITON_INTERPRET=1 when asked for by name (never chosen by default).
    """

    op: str
    cpu: tuple[str, ...] = ("reference",)
    cuda: tuple[str, ...] = ("reference",)
    interpreted: tuple[str, ...] = ()

    @property
    def implemented(self) -> tuple[str, ...]:
        return tuple(b for b in BACKENDS if b in self.cpu + self.cuda + self.interpreted)


def triton_interpreted() -> bool:
    """True when Triton kernels run on the CPU through Triton's interpreter."""
    return os.environ.get("TRITON_INTERPRET") == "1"


@functools.cache
def _triton_installed() -> bool:
    return importlib.util.find_spec("triton") is not None


def unavailable_reason(name: str) -> str | None:
    """None if backend `name` is installed and loads here, else why not and how to get it.

    Whether it can run on given tensors is a separate question (`device_reason`):
    the cuda backend loads on a machine without a GPU, but only runs on CUDA tensors.
    """
    if name == "reference":
        return None
    if name == "cpp":
        if _ext.cpp_module() is not None:
            return None
        return (f"hubkit._C is not available ({_ext.build_info().get('cpp')}; "
                f"{_ext.load_error('_C')}). Install a C++17 compiler and reinstall hubkit: "
                f"{_REINSTALL}.")
    if name == "cuda":
        if _ext.cuda_module() is not None:
            return None
        return (f"hubkit._cuda is not available ({_ext.build_info().get('cuda')}). Install "
                f"the CUDA toolkit (nvcc) and reinstall hubkit: HUBKIT_CUDA=ON {_REINSTALL}.")
    if name == "triton":
        if _triton_installed():
            return None
        return "Triton is not installed: `pip install 'hubkit-learn[triton]'`."
    raise ValueError(f"backend must be one of {BACKENDS}, got {name!r}")


def device_reason(name: str) -> str | None:
    """None if backend `name` has a device to run on here, else what is missing."""
    if name in ("cuda", "triton") and not torch.cuda.is_available():
        if name == "triton" and triton_interpreted():
            return None
        extra = ("; on a CPU, set TRITON_INTERPRET=1 before importing triton to run the "
                 "kernels in Triton's (slow) interpreter") if name == "triton" else ""
        return f"torch sees no CUDA device{extra}"
    return None


def available_backends() -> list[str]:
    """Backends built and loadable here, e.g. ['reference', 'cpp', 'cuda'].

    A listed backend may still need a device: `hubkit doctor` says which do.
    """
    return [b for b in BACKENDS if unavailable_reason(b) is None]


@contextlib.contextmanager
def use_backend(name: str | None) -> Iterator[None]:
    """Force backend `name` for every hubkit op called inside the block.

    Example:
        >>> import torch, hubkit
        >>> with hubkit.ops.use_backend("reference"):
        ...     y = hubkit.ops.bias_gelu(torch.ones(2, 2), torch.zeros(2))
    """
    if name is not None and name not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS} or None, got {name!r}")
    previous, _forced.name = _forced.name, name
    try:
        yield
    finally:
        _forced.name = previous


def _runs_on(spec: OpBackends, name: str, device: torch.device) -> bool:
    if device.type == "cuda":
        return name in spec.cuda
    return name in spec.cpu or (name in spec.interpreted and triton_interpreted())


def constant_under_compile(fn):
    """Mark `fn` so torch.compile calls it eagerly and bakes its result into the graph.

    This is what torch.compiler.assume_constant_result does (it sets this one
    flag), without importing torch._dynamo, and with it triton, on `import hubkit`.
    Only for functions whose arguments are all guarded by the caller's trace: the
    result is not re-checked when anything else changes.
    """
    fn._dynamo_marked_constant = True
    return fn


def resolve(spec: OpBackends, device: torch.device, backend: str | None = None) -> str:
    """The backend that runs `spec.op` on `device`.

    Args:
        spec: the op's backends.
        device: device of the op's tensors.
        backend: a name asked for on the call; else the `use_backend` setting;
            else the device's first available backend.

    Raises:
        ValueError: the name is unknown, or the op has no such backend for this device.
        BackendUnavailableError: the backend exists but cannot run on this machine.
    """
    # subtle: torch.compile traces this function. Reading _forced.name here puts a guard
    # on it, so a different use_backend block recompiles; `_choose` runs eagerly (its
    # checks touch caches and imports) and returns its error instead of raising, so the
    # traced code raises the same exception an eager call would.
    asked = backend if backend is not None else _forced.name
    name, error = _choose(spec, device, asked)
    if error is not None:
        kind, message = error
        raise (BackendUnavailableError if kind == "unavailable" else ValueError)(message)
    return name


@constant_under_compile
def _choose(spec: OpBackends, device: torch.device, asked: str | None):
    """(backend, None), or (None, (kind, message)) for an error `resolve` raises."""
    if asked is None:
        prefs = spec.cuda if device.type == "cuda" else spec.cpu
        for name in prefs:
            if unavailable_reason(name) is None and device_reason(name) is None:
                return name, None
        return None, ("unavailable", f"hubkit.ops.{spec.op}: no backend available on {device}")
    if asked not in BACKENDS:
        return None, ("value", f"backend must be one of {BACKENDS}, got {asked!r}")
    if asked not in spec.implemented:
        return None, ("value", f"backend: hubkit.ops.{spec.op} has no {asked!r} backend; "
                               f"it has {spec.implemented}")
    reason = unavailable_reason(asked)
    if reason is not None:
        return None, ("unavailable", f"backend {asked!r} is not available: {reason}")
    if not _runs_on(spec, asked, device):
        return None, _wrong_device(spec, asked, device)
    return asked, None


def _wrong_device(spec: OpBackends, asked: str, device: torch.device) -> tuple[str, str]:
    """The error for a backend that cannot run on `device`'s tensors."""
    if asked in spec.cuda and device.type != "cuda" and not torch.cuda.is_available():
        # On a machine without a GPU, "move the inputs" cannot help.
        interp = ("; to run the Triton kernels on the CPU, set TRITON_INTERPRET=1 before "
                  "importing triton (a slow interpreter)" if asked in spec.interpreted else "")
        return "unavailable", (
            f"backend {asked!r}: no CUDA device on this machine (torch.cuda.is_available() is "
            f"False), so it cannot run hubkit.ops.{spec.op}{interp}; pick another backend "
            f"(this op has {spec.implemented})")
    hint = ("; set TRITON_INTERPRET=1 before importing triton to run it on CPU tensors"
            if asked in spec.interpreted and device.type == "cpu" else "")
    return "value", (f"backend: {asked!r} cannot run hubkit.ops.{spec.op} on {device.type} "
                     f"tensors{hint}; move the inputs or pick another backend")
