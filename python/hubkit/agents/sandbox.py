"""A Python sandbox for agents: a subprocess with limits (time, memory, output), no network.

What is enforced, and by whom (Linux; `SandboxResult.enforced` reports what a run got):

| limit | how | level |
| --- | --- | --- |
| CPU time | RLIMIT_CPU (SIGXCPU) | kernel |
| wall-clock time | the parent kills the process group after `wall_s` | parent |
| memory | RLIMIT_AS (address space): a bigger allocation raises MemoryError | kernel |
| output | stdout/stderr go to files capped by RLIMIT_FSIZE (writes past it fail) | kernel |
| network | a new user + network namespace (no interface up) | kernel, when the kernel allows |
| network, also | an audit hook refuses sockets other than AF_UNIX | Python |
| writes only in the scratch folder | Landlock | kernel, Linux 5.13+ |
| reads only in scratch and Python's install | the audit hook refuses other `open`s | Python |
| no child processes | the audit hook refuses subprocess, system, exec, fork, ctypes | Python |

"Python" means Python-level: native code (a C extension the sandboxed code can load)
could bypass it. The kernel-level limits hold regardless. The namespace and
Landlock calls are hubkit._confine's, the ones the checker uses for
learners' code (shared, not copied).

Example:
    >>> box = PythonSandbox(time_s=5)
    >>> box.run("print(6 * 7)").stdout
    '42\\n'
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hubkit.agents.toolbox import inside
from hubkit.agents.tools import Tool

# The program the sandboxed interpreter runs first: the audit hook, then main.py.
RUNNER = r'''
import os, sys
SCRATCH = os.path.realpath(sys.argv[1])
READABLE = tuple(os.path.realpath(p) for p in {sys.prefix, sys.base_prefix, sys.exec_prefix,
                 *[p for p in sys.path if p]}) + (SCRATCH, "/dev/null", "/dev/urandom")
BANNED = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.fork",
          "os.forkpty", "os.spawn", "ctypes.dlopen", "ctypes.dlsym", "pty.spawn")
def _under(path, roots):
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)
def _hook(event, args):
    if event in BANNED:
        raise PermissionError(f"refused in the sandbox: {event}")
    if event == "socket.__new__" and args[1] != 1:  # 1 = AF_UNIX
        raise PermissionError("refused in the sandbox: network sockets")
    if event == "open" and isinstance(args[0], (str, bytes)):
        path = os.path.realpath(os.fsdecode(args[0]))
        mode = args[1] if len(args) > 1 else "r"
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
            (isinstance(mode, int) and mode & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
        if not _under(path, (SCRATCH, "/dev/null") if writing else READABLE):
            raise PermissionError(f"refused in the sandbox: {path} is outside {SCRATCH}")
sys.addaudithook(_hook)
sys.argv = ["main.py"]
sys.path.insert(0, SCRATCH)  # -I left it out: main.py may import its neighbours
with open(os.path.join(SCRATCH, "main.py"), encoding="utf-8") as f:
    source = f.read()
exec(compile(source, "main.py", "exec"), {"__name__": "__main__"})
'''


@dataclass
class SandboxResult:
    """What one run produced and why it stopped."""

    stdout: str
    stderr: str
    returncode: int
    timed_out: bool = False
    memory_exceeded: bool = False
    output_truncated: bool = False
    enforced: dict = field(default_factory=dict)

    def summary(self) -> str:
        """The text an agent sees: status, then stdout and stderr."""
        status = "timed out" if self.timed_out else "out of memory" if self.memory_exceeded \
            else f"exit status {self.returncode}"
        cut = " (output cut at the limit)" if self.output_truncated else ""
        return f"{status}{cut}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"


class PythonSandbox:
    """Run Python source in a confined subprocess (limits in the module docstring).

    Args:
        scratch: the folder the code runs in and may write to (default: a new temporary one).
        time_s: CPU seconds per run.
        wall_s: wall-clock seconds per run (default 3 * time_s + 1: a busy machine
            must not kill a program that is waiting for a core, not looping).
        memory_mb: address space the process may map.
        output_bytes: most bytes kept of stdout, and of stderr.
    """

    def __init__(self, scratch: str | Path | None = None, time_s: float = 5.0,
                 memory_mb: int = 512, output_bytes: int = 20_000,
                 wall_s: float | None = None) -> None:
        self.scratch = Path(scratch or tempfile.mkdtemp(prefix="hubkit-sandbox-")).resolve()
        self.scratch.mkdir(parents=True, exist_ok=True)
        self.time_s, self.memory_mb, self.output_bytes = time_s, memory_mb, output_bytes
        self.wall_s = wall_s if wall_s is not None else 3 * time_s + 1
        self.enforced = _kernel_guards()

    def write(self, name: str, text: str) -> Path:
        """Put a file into the scratch folder (from the host; refuses paths outside it)."""
        path = inside(self.scratch, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def run(self, code: str) -> SandboxResult:
        """Run `code` as main.py in the scratch folder; never raises for what the code does."""
        self.write("main.py", code)
        with tempfile.TemporaryDirectory(prefix="hubkit-sandbox-out-") as out:
            paths = [Path(out) / "stdout", Path(out) / "stderr"]
            with open(paths[0], "wb") as so, open(paths[1], "wb") as se:
                code_, timed_out = self._spawn(so, se)
            texts = [p.read_bytes() for p in paths]
        return self._result(code_, timed_out, texts)

    def _spawn(self, stdout, stderr) -> tuple[int, bool]:
        # subtle: -B, no bytecode cache: a module rewritten within the same second at the
        # same size (fib(n - 3) -> fib(n - 2)) would otherwise load its stale .pyc.
        cmd = [sys.executable, "-I", "-B", "-X", "utf8", "-c", RUNNER, str(self.scratch)]
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(self.scratch)}
        proc = subprocess.Popen(cmd, cwd=self.scratch, env=env, stdin=subprocess.DEVNULL,
                                stdout=stdout, stderr=stderr, preexec_fn=self._confine)
        try:
            return proc.wait(timeout=self.wall_s), False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            return proc.wait(), True

    def _confine(self) -> None:
        """In the child, before exec: own process group, rlimits, namespaces, Landlock."""
        from hubkit._confine import confine_writes, isolate_network

        os.setsid()
        mem, cpu = self.memory_mb * 2**20, int(self.time_s) + 1
        # subtle: the hard CPU limit one second past the soft one, so the kernel's SIGXCPU
        # (soft) arrives first; with both equal its SIGKILL (hard) can come at the same
        # tick and the run would not read as timed out.
        for limit, soft, hard in ((resource.RLIMIT_AS, mem, mem),
                                  (resource.RLIMIT_CPU, cpu, cpu + 1),
                                  (resource.RLIMIT_FSIZE, self.output_bytes, self.output_bytes),
                                  (resource.RLIMIT_CORE, 0, 0)):
            resource.setrlimit(limit, (soft, hard))
        if self.enforced["network"] == "namespace" and not isolate_network():
            raise RuntimeError("entering a network namespace failed")
        if self.enforced["writes"] == "landlock" and not confine_writes(str(self.scratch)):
            raise RuntimeError("Landlock refused the write rules")

    def _result(self, code: int, timed_out: bool, texts: list[bytes]) -> SandboxResult:
        stdout, stderr = (t[:self.output_bytes].decode("utf-8", "replace") for t in texts)
        truncated = any(len(t) >= self.output_bytes for t in texts) or "File too large" in stderr
        # subtle: RLIMIT_CPU ends the process with SIGXCPU, not a wall-clock kill
        timed_out = timed_out or code == -signal.SIGXCPU
        memory = "MemoryError" in stderr
        return SandboxResult(stdout, stderr, code, timed_out, memory, truncated,
                             dict(self.enforced))

    def tool(self) -> Tool:
        """A `run_python(code)` tool for an agent (its output is untrusted)."""

        def run_python(code: str) -> str:
            """Run a Python program in a sandbox and return its exit status, stdout and stderr.

            Args:
                code: the whole program; print what you want to see.
            """
            return self.run(code).summary()

        return Tool.from_function(run_python, untrusted=True)


def _kernel_guards() -> dict:
    """Which kernel-level guards this machine allows (tried once per sandbox)."""
    from hubkit._confine import landlock_abi, namespaces_available

    return {"time": "RLIMIT_CPU + wall-clock kill", "memory": "RLIMIT_AS",
            "output": "RLIMIT_FSIZE",
            "network": "namespace" if namespaces_available() else "audit hook (Python-level)",
            "writes": "landlock" if landlock_abi() >= 1 else "audit hook (Python-level)"}
