"""Kernel-level confinement of a process: no network, writes only under one folder.

Shared by the checker's learner process (hubkit.check.sandbox) and the agents'
Python sandbox (hubkit.agents.sandbox); neither owns it, so it lives here, below
both layers. Linux only; elsewhere every function reports False or 0.

* `isolate_network`: enter new user and network namespaces. The new network
  namespace has only a loopback device that is down: no socket reaches
  anything, a kernel guarantee.
* `confine_writes`: Landlock (Linux 5.13+) refuses every write outside the
  given folders for this process and its children, a kernel guarantee.
* `namespaces_available` and `landlock_abi` say whether this kernel allows them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys


def _libc():
    return ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


def namespaces_available() -> bool:
    """Whether this kernel lets an unprivileged process enter new user and network
    namespaces (tried in a throwaway child)."""
    if not sys.platform.startswith("linux"):
        return False
    pid = os.fork()
    if pid == 0:
        os._exit(0 if isolate_network() else 1)
    return os.waitpid(pid, 0)[1] == 0


def isolate_network() -> bool:
    """Enter new user and network namespaces (no interface up); True on success."""
    if not sys.platform.startswith("linux"):
        return False
    clone_newuser, clone_newnet = 0x10000000, 0x40000000
    try:
        return _libc().unshare(clone_newuser | clone_newnet) == 0
    except (OSError, AttributeError):
        return False


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


# Landlock write rights (ABI 1-3): write/truncate files, remove and make entries.
_LL_WRITE = (1 << 1) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 9) \
    | (1 << 10) | (1 << 11) | (1 << 12)
_LL_TRUNCATE = 1 << 14
_SYS = {"x86_64": (444, 445, 446), "aarch64": (444, 445, 446)}


def landlock_abi() -> int:
    """The kernel's Landlock ABI version (0: unavailable)."""
    import platform

    calls = _SYS.get(platform.machine())
    if not sys.platform.startswith("linux") or calls is None:
        return 0
    libc = _libc()
    libc.syscall.restype = ctypes.c_long
    return max(int(libc.syscall(calls[0], None, ctypes.c_size_t(0), ctypes.c_uint32(1))), 0)


def confine_writes(scratch: str, also: tuple[str, ...] = ("/dev/null",)) -> bool:
    """Landlock: writes allowed only beneath `scratch` (and `also`); True when enforced."""
    import platform

    calls = _SYS.get(platform.machine())
    if not sys.platform.startswith("linux") or calls is None:
        return False
    create, add_rule, restrict = calls
    libc = _libc()
    libc.syscall.restype = ctypes.c_long
    abi = libc.syscall(create, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    if abi < 1:
        return False
    rights = _LL_WRITE | (_LL_TRUNCATE if abi >= 3 else 0)
    attr = _RulesetAttr(rights)
    fd = libc.syscall(create, ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)),
                      ctypes.c_uint32(0))
    if fd < 0:
        return False
    try:
        for path in (scratch, *also):
            flags = os.O_PATH | (os.O_DIRECTORY if os.path.isdir(path) else 0)
            pfd = os.open(path, flags)
            allowed = rights if os.path.isdir(path) else rights & ((1 << 1) | _LL_TRUNCATE)
            rule = _PathBeneath(allowed, pfd)
            libc.syscall(add_rule, ctypes.c_int(fd), ctypes.c_int(1), ctypes.byref(rule),
                         ctypes.c_uint32(0))
            os.close(pfd)
        pr_set_no_new_privs = 38
        libc.prctl(pr_set_no_new_privs, 1, 0, 0, 0)
        return libc.syscall(restrict, ctypes.c_int(fd), ctypes.c_uint32(0)) == 0
    finally:
        os.close(fd)
