"""Hardening of the learner's process, applied before any learner code is loaded.

What each measure guarantees (Linux; elsewhere the Python-level parts only):

* one channel: every inherited file descriptor but the channel and the log
  (stdout/stderr) is closed, so no pipe of the grader or the fork server is
  reachable (`close_fds`);
* limits (`set_limits`): RLIMIT_AS bounds the address space (a 100 GiB
  allocation fails inside the learner's code), RLIMIT_CPU bounds CPU seconds
  (SIGXCPU, then SIGKILL), RLIMIT_NPROC bounds new processes and threads, and
  the process leads its own process group, which the grader kills as a whole;
* no network (`isolate_network`): a new user + network namespace when the
  kernel allows it (only a loopback device that is down: a kernel guarantee);
  otherwise, and in any case, socket creation for anything but AF_UNIX is
  refused by the audit hook (a Python-level guarantee: native code can bypass);
* writes confined to the scratch directory (`confine_writes`): Landlock (Linux
  5.13+) refuses writes outside it, a kernel guarantee; without Landlock the
  working directory is the scratch directory and the audit hook refuses
  Python-level opens for writing elsewhere (bypassable from native code);
* hubkit's own code is out of reach: hubkit modules outside hubkit.check are
  empty stubs (`StubFinder`), forbidden aten ops get kernels that raise
  (`block_forbidden_kernels`), and (`install_audit_hook`) a permanent audit
  hook (PEP 578: it cannot be removed from Python) refuses importing any
  hubkit module the harness did not load, loading hubkit's compiled
  extensions with ctypes, opening hubkit's source files, and opening another
  process's /proc entries (its memory, environment, command line).
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import os
import resource
import sys
import types
from pathlib import Path

from hubkit._confine import (  # noqa: F401  (kernel-level parts, shared with hubkit.agents)
    confine_writes,
    isolate_network,
    landlock_abi,
    namespaces_available,
)

HUBKIT_DIR = str(Path(__file__).resolve().parents[1])  # .../python/hubkit
_ALLOWED_HUBKIT = ("hubkit.check",)  # the harness; topic slices are stubs in this process


class Refused(PermissionError):
    """Something the learner's process may not do; the message names it."""


def close_fds(keep: set[int]) -> None:
    """Close every descriptor not in `keep` (0, 1, 2 and the channel)."""
    try:
        fds = [int(f) for f in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, 1024))
    for fd in fds:
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _count_tasks(uid: int) -> int:
    """Tasks (processes and threads) of `uid` now: RLIMIT_NPROC counts them all."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/status", encoding="ascii") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
            if int(fields["Uid"].split()[0]) == uid:
                total += int(fields["Threads"])
        except (OSError, KeyError, ValueError):
            continue
    return total


def _address_space() -> int:
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def set_limits(memory_gb: float, cpu_s: float, extra_tasks: int = 256,
               gpu: bool = False) -> dict:
    """Apply RLIMIT_AS (what is mapped now + memory_gb), RLIMIT_CPU and RLIMIT_NPROC.

    With `gpu`, RLIMIT_DATA replaces RLIMIT_AS: the CUDA driver reserves far more
    address space than it uses (PROT_NONE ranges, which RLIMIT_DATA does not count).
    """
    os.setpgrp()
    applied = {}
    mem = _address_space() + int(memory_gb * 2**30)
    for name, soft, hard in (("RLIMIT_DATA" if gpu else "RLIMIT_AS", mem, mem),
                             ("RLIMIT_CPU", int(cpu_s), int(cpu_s) + 5),
                             ("RLIMIT_CORE", 0, 0)):
        try:
            resource.setrlimit(getattr(resource, name), (soft, hard))
            applied[name] = soft
        except (ValueError, OSError):
            pass
    if sys.platform.startswith("linux"):
        n = _count_tasks(os.getuid()) + extra_tasks
        try:
            resource.setrlimit(resource.RLIMIT_NPROC, (n, n))
            applied["RLIMIT_NPROC"] = n
        except (ValueError, OSError):
            pass
    return applied


def _proc_of_other(path: str) -> bool:
    parts = path.split("/")
    if len(parts) < 3 or parts[1] != "proc" or not parts[2].isdigit():
        return False
    return int(parts[2]) != os.getpid()


def install_audit_hook(scratch: str, writes_confined: bool) -> None:
    """The permanent hook described in the module docstring."""
    import socket

    scratch = os.path.realpath(scratch)
    hubkit_dir = HUBKIT_DIR + os.sep
    check_dir = os.path.join(HUBKIT_DIR, "check") + os.sep

    def refuse(what: str):
        raise Refused(f"refused in the checker's sandbox: {what}")

    def hook(event: str, args) -> None:
        if event == "import":
            name = str(args[0])
            if (name == "hubkit" or name.startswith("hubkit.")) and \
                    not name.startswith(_ALLOWED_HUBKIT) and name not in sys.modules:
                refuse(f"import {name} (hubkit's own implementations are not available "
                       "to the code being graded)")
        elif event == "open" and isinstance(args[0], (str, bytes)):
            path = os.fsdecode(args[0])
            full = os.path.realpath(path) if not path.startswith("/proc/") else path
            if full.startswith(hubkit_dir) and not full.startswith(check_dir):
                refuse(f"open {path} (hubkit's sources are not readable from the graded code)")
            if _proc_of_other(full):
                refuse(f"open {path} (another process's memory, environment or files)")
            mode = args[1] if len(args) > 1 else "r"
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
                (isinstance(mode, int) and mode & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
            if writing and not writes_confined and not full.startswith(scratch) and \
                    full != "/dev/null":
                refuse(f"write to {path} (only the scratch directory {scratch} is writable)")
        elif event == "ctypes.dlopen" and args and args[0] and \
                os.path.realpath(os.fsdecode(args[0])).startswith(hubkit_dir):
            refuse(f"load {args[0]} (hubkit's compiled kernels)")
        elif event == "socket.__new__" and args[1] not in (socket.AF_UNIX,):
            refuse("open a network socket (the checker runs your code offline)")

    sys.addaudithook(hook)


# ------------------------------------------------------------ hubkit out of reach

class _Unavailable:
    """What a hubkit implementation is inside the learner's process: nothing usable."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _Unavailable(f"{self._name}.{attr}")

    def __call__(self, *args, **kwargs):
        raise Refused(f"{self._name} is not available to the code being graded: "
                             "hubkit's own implementations are out of reach in the checker")


def _stub_attr(module: str, attr: str):
    if attr.startswith("__"):  # __file__, __spec__ probes (inspect, triton) see a plain module
        raise AttributeError(attr)
    return _Unavailable(f"{module}.{attr}")


class StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves every hubkit module outside hubkit.check and hubkit.exercise_support as a stub."""

    def find_spec(self, name, path=None, target=None):
        real = ("hubkit.check", "hubkit.exercise_support")  # the grader's own code
        if name.startswith("hubkit.") and not name.startswith(real):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        module = types.ModuleType(spec.name)
        module.__path__ = []
        module.__getattr__ = functools.partial(_stub_attr, spec.name)
        return module

    def exec_module(self, module):
        return None


def block_forbidden_kernels(forbidden) -> None:
    """Replace the CPU/CUDA kernels of forbidden aten ops by ones that raise.

    The dispatch guard flags a forbidden call; this makes it useless too, even if
    the learner's code leaves the guard: the op no longer computes anything here.
    """
    import warnings

    import torch

    from hubkit.check.guards import forbidden_message

    libs = _KERNEL_BLOCKS
    warnings.filterwarnings("ignore", message=".*Overriding a previously registered kernel.*")
    warnings.filterwarnings("ignore", message=".*Warning only once for all operators.*")
    for name in forbidden:
        ns, _, op = name.partition("::")
        if ns != "aten":
            continue
        for key in ("CPU", "CUDA"):
            try:
                lib = torch.library.Library("aten", "IMPL", key)
                lib.impl(op, _raiser(name, forbidden_message(name)), key)
                libs.append(lib)
            except Exception:  # noqa: BLE001 - an op without this key, or no overloads
                continue


_KERNEL_BLOCKS: list = []


def _raiser(name: str, message: str):
    from hubkit.check.spec import CheckFailure

    def kernel(*args, **kwargs):
        raise CheckFailure(message)

    kernel.__name__ = name
    return kernel
