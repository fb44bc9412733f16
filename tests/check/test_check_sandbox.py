"""Limits of the learner's process: each abuse ends as a verdict, and the next check runs.

Uses the synthetic matmul exercise of test_check_runner. What is a kernel guarantee
(RLIMIT_AS, RLIMIT_CPU, RLIMIT_NPROC, a network namespace, Landlock, PR_SET_DUMPABLE)
is tested from native code too (ctypes), where the audit hook cannot see it.
"""

from __future__ import annotations

import os
import socket
import sys
import time

import pytest
from test_check_runner import check, learner, make_exercise

from hubkit.check import rpc, sandbox

LINUX = sys.platform.startswith("linux")
NAMESPACES = sandbox.namespaces_available()
# root ignores RLIMIT_NPROC unless its process gave up its capabilities (a user namespace)
LANDLOCK = LINUX and sandbox.landlock_abi() > 0
NPROC_ENFORCED = LINUX and (os.geteuid() != 0 or NAMESPACES)


@pytest.fixture
def ex(tmp_path):
    return make_exercise(tmp_path / "exercises")


def test_a_100_gib_allocation_is_a_memory_verdict(ex, tmp_path):
    body = "def matmul(a, b):\n    return torch.empty(100 * 2**30 // 4)\n"
    r = check(ex, learner(tmp_path, body))
    assert r.status == "error" and "used more than 8 GiB of memory" in r.message
    assert check(ex, ex.solution_files()).status == "pass"


def test_cpu_time_limit_ends_a_busy_loop_before_the_wall_clock(ex, tmp_path, monkeypatch):
    monkeypatch.setitem(rpc.LIMITS, "cpu_s", 2)
    r = check(ex, learner(tmp_path, "def matmul(a, b):\n    while True:\n        pass\n"))
    assert r.status == "timeout" and "used more than 2 s of CPU time" in r.message


@pytest.mark.skipif(not NPROC_ENFORCED, reason="RLIMIT_NPROC is not enforced here (root "
                    "without user namespaces)")
def test_a_fork_bomb_is_bounded_and_its_processes_are_killed(ex, tmp_path, monkeypatch):
    monkeypatch.setitem(rpc.LIMITS, "tasks", 24)
    body = """
    import os

    def matmul(a, b):
        pids = []
        for _ in range(3000):  # posix_spawn: a process bomb without copying torch each time
            try:
                pids.append(os.posix_spawn("/bin/sleep", ["sleep", "600"], {}))
            except OSError:
                break
        raise RuntimeError("forked " + " ".join(map(str, pids)))
    """
    r = check(ex, learner(tmp_path, body), timeout=120)
    assert r.status == "error" and "forked" in r.message
    pids = [int(p) for p in r.message.split("forked", 1)[1].split("\n")[0].split()]
    # RLIMIT_NPROC counts every task of this user, so on a busy machine the bound moves
    assert len(pids) < 3000, "RLIMIT_NPROC did not stop the fork loop"
    ended = _uptime()
    deadline = time.monotonic() + 10  # SIGKILL is delivered asynchronously
    while _alive(pids, ended) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pids, ended), "forked processes outlived the check"
    assert check(ex, ex.solution_files()).status == "pass"


def _uptime() -> float:
    with open("/proc/uptime", encoding="ascii") as f:
        return float(f.read().split()[0])


def _alive(pids: list[int], before: float) -> list[int]:
    """Those of `pids` still running that started before `before` (seconds since boot): on a
    busy machine a pid freed by the kill is soon another, newer process."""
    out = []
    for p in pids:
        try:
            with open(f"/proc/{p}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22 of /proc/PID/stat
        if fields[0] not in ("Z", "X") and started < before:
            out.append(p)
    return out


def test_only_the_channel_and_the_log_are_open_in_the_learners_process(ex, tmp_path):
    body = """
    import os

    def matmul(a, b):
        targets = []
        for fd in os.listdir("/proc/self/fd"):
            try:
                targets.append(os.readlink(f"/proc/self/fd/{fd}"))
            except OSError:  # the directory listing's own descriptor, closed by now
                pass
        raise RuntimeError("fds " + " ".join(targets))
    """
    r = check(ex, learner(tmp_path, body))
    targets = r.message.split("fds ", 1)[1].split("\n")[0].split()
    sockets = [t for t in targets if t.startswith("socket:")]
    assert len(sockets) == 1, targets  # the channel; no pipe of the grader or fork server
    assert not [t for t in targets if t.startswith("pipe:")], targets


def test_python_sockets_are_refused(ex, tmp_path):
    body = """
    import socket

    def matmul(a, b):
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    """
    r = check(ex, learner(tmp_path, body))
    assert "refused in the checker's sandbox: open a network socket" in r.message


@pytest.mark.skipif(not NAMESPACES, reason="no network namespaces here: only the Python-level "
                    "socket refusal applies")
def test_native_code_cannot_reach_the_network(ex, tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.5)
    port = server.getsockname()[1]
    body = f"""
    import ctypes, struct

    def matmul(a, b):
        libc = ctypes.CDLL(None, use_errno=True)
        fd = libc.socket(2, 1, 0)  # AF_INET, SOCK_STREAM, without Python's socket module
        addr = struct.pack("!HH4s8x", 2, {port}, bytes([127, 0, 0, 1]))
        rc = libc.connect(fd, addr, len(addr))
        raise RuntimeError(f"connect rc={{rc}} errno={{ctypes.get_errno()}}")
    """
    r = check(ex, learner(tmp_path, body))
    with pytest.raises(socket.timeout):
        server.accept()  # nothing arrived from the learner's process
    assert "connect rc=-1" in r.message, r.message
    server.close()


def test_writes_outside_the_scratch_directory_are_refused(ex, tmp_path):
    outside = tmp_path / "outside.txt"
    body = f"""
    import ctypes

    def matmul(a, b):
        with open("inside.txt", "w") as f:  # the working directory is the scratch directory
            f.write("ok")
        libc = ctypes.CDLL(None, use_errno=True)
        fd = libc.open(b"{outside}", 0o101, 0o644)  # O_WRONLY | O_CREAT, from native code
        try:
            open("{outside}", "w").write("python")
        except PermissionError as err:
            raise RuntimeError(f"python refused; native fd={{fd}}") from err
        raise RuntimeError("python wrote outside")
    """
    r = check(ex, learner(tmp_path, body))
    assert "python refused" in r.message, r.message
    if LANDLOCK:  # a kernel guarantee: native code is refused too
        assert "native fd=-1" in r.message and not outside.exists()


@pytest.mark.skipif(not LINUX, reason="/proc and PR_SET_DUMPABLE are Linux-only")
def test_native_code_cannot_read_the_graders_memory(ex, tmp_path):
    secret = b"hubkit-secret-seed-4242"
    body = f"""
    import ctypes

    def matmul(a, b):
        libc = ctypes.CDLL(None, use_errno=True)
        for what in (b"mem", b"environ"):
            fd = libc.open(b"/proc/{os.getpid()}/" + what, 0)
            if fd >= 0:
                buf = ctypes.create_string_buffer(64)
                libc.pread(fd, buf, 64, ctypes.c_long({id(secret)}))
                raise RuntimeError("read the grader: " + repr(buf.raw))
        raise RuntimeError(f"grader unreadable errno={{ctypes.get_errno()}}")
    """
    r = check(ex, learner(tmp_path, body))
    assert "grader unreadable" in r.message, r.message
