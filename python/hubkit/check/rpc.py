"""The grader's side of the boundary: a learner's process, called like a module.

`Session` starts the learner's process (`hubkit.check.child`) and sends it
requests; `session.module` is a stand-in for the learner's module, so a spec's
`check(learner, ctx)` reads as before (`learner.PrioritizedReplay(5, 0.6)`,
`buf.add(3)`, `a * b` on learner Values), while every call runs over there
and only data comes back:

* arguments go as data: arrays, tensors and numpy Generators are mirrored
  (changes the learner's code makes to them flow back after each call, so a
  spec sees `Q[s, a]` updated in place as before); grader-side functions go
  as callbacks the learner's code may call; other objects (an env) as copies;
* results come back as data, or as a handle (`Remote`) to an object that
  stays in the learner's process (a buffer, a Value), whose methods and
  operators are calls again;
* replies are read with `wire.safe_loads` (primitives only), and a reply that
  is not one of the expected shapes is an error, never a verdict.

A call that outlives the phase's deadline kills the process (and its process
group): `Gone` carries the verdict (timeout, crash, CPU or memory limit).
"""

from __future__ import annotations

import builtins
import functools
import itertools
import multiprocessing
import os
import pickle
import shutil
import signal
import sys
import tempfile
import time
import weakref
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hubkit.check import wire
from hubkit.check.remote import MethodMarker, Remote

# The learner's process: address space it may add (GiB; an exercise may set memory_gb) and
# CPU seconds (None: 8x the phase budget, at least 240 s, so every thread may stay busy).
# "tasks": processes and threads it may add (RLIMIT_NPROC counts all of the user's).
LIMITS: dict[str, float | None] = {"memory_gb": 8.0, "cpu_s": None, "tasks": 256}
_SIGNALS = {
    "SIGSEGV": "segmentation fault (SIGSEGV): a read or write outside your buffers? "
               "check indices and loop bounds",
    "SIGBUS": "bus error (SIGBUS): a misaligned or out-of-range pointer",
    "SIGFPE": "arithmetic error (SIGFPE): an integer division by zero?",
    "SIGILL": "illegal instruction (SIGILL)",
    "SIGABRT": "aborted (SIGABRT): a failed assert, a C++ exception thrown inside an "
               "OpenMP region or another thread, or memory exhausted (std::bad_alloc)",
    "SIGKILL": "killed (SIGKILL): out of memory, or past the CPU-time limit",
}


class Gone(Exception):
    """The learner's process ended (timeout, crash, limit); `verdict` is the Result fields."""

    def __init__(self, verdict: dict[str, Any]) -> None:
        super().__init__(verdict.get("message", ""))
        self.verdict = verdict


class LearnerRaised(Exception):
    """The learner's code raised; `info` describes it (type, text, the learner's frames)."""

    def __init__(self, info: dict[str, Any]) -> None:
        super().__init__(f"{info.get('type')}: {info.get('text')}")
        self.info = info


@functools.cache
def _raised_class(builtin_name: str | None) -> type:
    """LearnerRaised, also a ValueError (etc.) when the learner's code raised one, so a
    spec's `except ValueError` around a bad-input probe works as before."""
    base = getattr(builtins, builtin_name or "", None)
    if isinstance(base, type) and issubclass(base, Exception) and base is not Exception:
        return type(f"Learner{builtin_name}", (LearnerRaised, base), {})
    return LearnerRaised


def _raise_learner(info: dict[str, Any]):
    cls = _raised_class(info.get("builtin"))
    err = cls.__new__(cls)
    LearnerRaised.__init__(err, info)
    raise err


# ------------------------------------------------------------------ processes

def context(kind: str = "python"):
    """Fork server (torch preloaded) by default; a fresh spawned interpreter where the
    child will use a GPU (CUDA state does not survive a fork) or Triton's interpreter."""
    if sys.platform == "win32" or (kind in ("cuda", "triton") and gpu_here()):
        return multiprocessing.get_context("spawn")
    if kind == "triton" and os.environ.get("TRITON_INTERPRET") != "1":
        # subtle: triton fixes interpreted vs compiled mode for tl.max/tl.sum at import,
        # and the fork server has it imported: an interpreted child is spawned fresh.
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    # subtle: OpenMP reads OMP_NUM_THREADS once, when libgomp loads; the fork server
    # inherits this environment, so the learner's OpenMP loops see the pinned count.
    os.environ.setdefault("OMP_NUM_THREADS", str(os.cpu_count() or 1))
    # subtle: the learner guard (a TorchDispatchMode) imports torch._dynamo on its first
    # op, ~5 s on a 2-core machine; preloading it once here saves that in every child.
    ctx.set_forkserver_preload(["torch", "torch._dynamo", "hubkit.check.child"])
    return ctx


@functools.cache
def gpu_here() -> bool:
    return torch.cuda.is_available()


def warm_up(kind: str) -> None:
    """Start the fork server now (it imports torch while the compiler runs)."""
    if context(kind).get_start_method() != "forkserver":
        return
    from multiprocessing import forkserver

    saved = os.environ.get("TRITON_INTERPRET")
    if not gpu_here():
        os.environ["TRITON_INTERPRET"] = "1"
    try:
        forkserver.ensure_running()
    finally:
        if saved is None:
            os.environ.pop("TRITON_INTERPRET", None)
        else:
            os.environ["TRITON_INTERPRET"] = saved


def _set_dumpable(on: bool) -> None:
    """PR_SET_DUMPABLE: off, no process of this user can read our memory (/proc/PID/mem),
    environment or attach a debugger; the learner's process then cannot read the grader."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL(None).prctl(4, 1 if on else 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass


class Session:
    """One learner's process (or the trusted worker) and the calls into it.

    Args:
        payload: what the child needs (see hubkit.check.child.main).
        budget_s: wall-clock seconds for the current phase; `phase(name, s)` starts another.
    """

    def __init__(self, payload: dict[str, Any], budget_s: float, phase: str = "correctness"):
        self.payload = dict(payload)
        self.phase_name, self.deadline = phase, time.monotonic() + budget_s
        self.budget_s = budget_s
        self.mirrors: dict[int, Any] = {}   # mirror id -> weakref (or the object)
        self._mirror_of: dict[int, tuple[int, Any]] = {}  # id(obj) -> (mirror id, ref)
        self._dead: list[int] = []          # mirrors the grader no longer holds
        self._next_mirror = itertools.count(1)
        self.callbacks: dict[int, Any] = {}
        self.last_info: dict[str, Any] = {}
        self.module = Remote(self, None, "module", False)
        self.proc = None
        self.limits: dict[str, Any] = {}

    # -- lifetime
    def start(self, interpret: bool = False) -> None:
        scratch = tempfile.mkdtemp(prefix="hubkit-scratch-")
        fd, log = tempfile.mkstemp(prefix="hubkit-check-", suffix=".log")
        os.close(fd)
        cpu = LIMITS["cpu_s"] or max(self.budget_s, 30.0) * 8
        self.payload |= {"scratch": scratch, "log": log,
                         "limits": {"memory_gb": self.payload.get("memory_gb",
                                                                  LIMITS["memory_gb"]),
                                    "cpu_s": self.payload.get("cpu_s", cpu),
                                    "tasks": int(LIMITS["tasks"] or 256)}}
        self.limits = self.payload["limits"]
        ctx = context(self.payload["kind"])
        if interpret:
            ctx = multiprocessing.get_context("spawn")
        warm_up(self.payload["kind"])
        self.conn, child_conn = ctx.Pipe(duplex=True)
        from hubkit.check.child import main as child_main

        if not self.payload.get("trusted"):
            _set_dumpable(False)
        self.proc = ctx.Process(target=child_main, args=(child_conn, self.payload), daemon=True)
        saved = os.environ.get("TRITON_INTERPRET")
        if interpret:
            os.environ["TRITON_INTERPRET"] = "1"
        try:
            self.proc.start()
        finally:
            if interpret and saved is None:
                os.environ.pop("TRITON_INTERPRET", None)
        child_conn.close()
        # subtle: the fork server may still be importing torch; the budget starts now.
        self.phase(self.phase_name, self.budget_s)
        reply = self._receive()
        if reply[0] == "raise":
            _raise_learner(reply[1])
        if reply[0] != "ready":
            raise Gone({"status": "error", "message": "the learner's process did not start "
                        f"cleanly: {str(reply)[:200]}"})

    def phase(self, name: str, budget_s: float) -> None:
        """Start a phase with its own budget (correctness, then timing)."""
        self.phase_name, self.budget_s = name, budget_s
        self.deadline = time.monotonic() + budget_s

    def close(self) -> str:
        """End the process and its group; return the tail of what it printed."""
        if self.proc is not None:
            try:
                self.conn.send(([], ("exit",)))
            except (OSError, ValueError):
                pass
            self.proc.join(0.5)
            self._kill()
            self.conn.close()
        if not self.payload.get("trusted"):  # the trusted worker may close first
            _set_dumpable(True)
        log, scratch = self.payload.get("log"), self.payload.get("scratch")
        out = _tail(log) if log else ""
        if log:
            Path(log).unlink(missing_ok=True)
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
        return out

    def _kill(self) -> None:
        pid = self.proc.pid
        if pid:
            try:
                os.killpg(pid, signal.SIGKILL)  # the learner's process leads its own group
            except (ProcessLookupError, PermissionError, OSError):
                pass
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)

    # -- requests
    def _receive(self) -> tuple:
        while True:
            left = self.deadline - time.monotonic()
            if left <= 0 or not self._poll(left):
                if time.monotonic() >= self.deadline:
                    self._kill()
                    raise Gone(self._timeout())
            try:
                data = self.conn.recv_bytes(wire.MAX_MESSAGE)
            except EOFError:
                raise Gone(self._death()) from None
            except OSError as err:  # e.g. a garbage length written onto the channel
                if not self.proc.is_alive():
                    raise Gone(self._death()) from None
                raise Gone({"status": "error", "message": "unreadable reply from the "
                            f"learner's process: {err}"}) from None
            try:
                reply = wire.safe_loads(data)
            except Exception as err:  # noqa: BLE001 - whatever the learner's process sent
                raise Gone({"status": "error", "message": f"unreadable reply from the "
                            f"learner's process: {err}"}) from None
            if not isinstance(reply, tuple) or not reply:
                raise Gone({"status": "error", "message": "malformed reply from the "
                            f"learner's process: {str(reply)[:200]}"})
            if reply[0] == "callback":
                self._serve_callback(reply)
                continue
            return reply

    def _poll(self, left: float) -> bool:
        end = time.monotonic() + left
        while time.monotonic() < end:
            if self.conn.poll(min(0.05, max(end - time.monotonic(), 0))):
                return True
            if not self.proc.is_alive():
                return self.conn.poll(0)
        return False

    def _timeout(self) -> dict[str, Any]:
        return {"status": "timeout", "phase": self.phase_name,
                "message": f"timed out in the {self.phase_name} phase after "
                           f"{self.budget_s:.0f} s (its budget): an endless loop, a deadlock, "
                           "or code far too slow for these sizes"}

    def _death(self) -> dict[str, Any]:
        self.proc.join(5)
        code = self.proc.exitcode
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            if name == "SIGXCPU":
                return {"status": "timeout", "phase": self.phase_name,
                        "message": f"used more than {self.limits['cpu_s']:.0f} s of CPU time "
                                   "(the limit): an endless loop on many threads?"}
            return {"status": "crash", "message": f"crashed: {_SIGNALS.get(name, name)}"}
        return {"status": "crash", "message": f"the learner's process exited with code {code} "
                "before answering (sys.exit or os._exit in your code?)"}


    def request(self, *message) -> Any:
        """Send one request; return the decoded value, applying mirrored changes."""
        if self.proc is None or not self.proc.is_alive():
            raise Gone(self._death() if self.proc else {"status": "error",
                                                         "message": "not started"})
        dead, self._dead = self._dead, []
        try:
            self.conn.send((dead, message))
        except (OSError, ValueError):
            raise Gone(self._death()) from None
        reply = self._receive()
        if reply[0] not in ("ok", "fail", "raise") or len(reply) < 3:
            raise Gone({"status": "error", "message": "malformed reply from the learner's "
                        f"process: {str(reply)[:200]}"})
        self._apply_mirrors(reply[2])
        if reply[0] == "fail":
            from hubkit.check.spec import CheckFailure

            raise CheckFailure(str(reply[1]))
        if reply[0] == "raise":
            _raise_learner(reply[1] if isinstance(reply[1], dict) else {"text": str(reply[1])})
        self.last_info = reply[3] if len(reply) > 3 and isinstance(reply[3], dict) else {}
        return wire.decode(reply[1], self._result_hook)

    # -- encoding
    def encode(self, obj: Any) -> Any:
        return wire.encode(obj, self._arg_hook)

    def _arg_hook(self, obj: Any):
        if isinstance(obj, Remote):
            return ("__h", obj._key)
        if isinstance(obj, (np.ndarray, torch.Tensor)):
            return ("__m", self._mirror_id(obj), wire.encode(obj))
        if isinstance(obj, np.random.Generator):
            state = wire.encode(obj.bit_generator.state)
            return ("__m", self._mirror_id(obj), ("__g", type(obj.bit_generator).__name__,
                                                  state))
        if isinstance(obj, (np.generic, torch.dtype, slice, tuple, list, dict)):
            return None
        if callable(obj) and not isinstance(obj, type):
            self.callbacks[id(obj)] = obj
            return ("__cb", id(obj), getattr(obj, "__name__", "callback"))
        if isinstance(obj, (str, bytes, int, float, complex, bool)) or obj is None:
            return None
        try:
            return ("__pk", pickle.dumps(obj))  # a copy: the learner's changes stay there
        except Exception:  # noqa: BLE001 - unpicklable: say what cannot cross
            return None

    def _mirror_id(self, obj: Any) -> int:
        """A stable id while the grader holds `obj`; the learner's process forgets it after."""
        known = self._mirror_of.get(id(obj))
        if known is not None and _deref(known[1]) is obj:
            return known[0]
        mid, key = next(self._next_mirror), id(obj)
        try:
            ref = weakref.ref(obj, lambda _, m=mid, k=key: self._forget(m, k))
        except TypeError:  # numpy Generators: held for the session
            ref = obj
        self._mirror_of[id(obj)], self.mirrors[mid] = (mid, ref), ref
        return mid

    def _forget(self, mid: int, key: int) -> None:
        self.mirrors.pop(mid, None)
        if self._mirror_of.get(key, (None,))[0] == mid:
            del self._mirror_of[key]
        self._dead.append(mid)

    def _result_hook(self, tag: tuple):
        if tag[0] == "__meth":
            return MethodMarker()
        if tag[0] == "__h":
            return Remote(self, tag[1], str(tag[2]), bool(tag[3]))
        if tag[0] == "__g":
            bit = getattr(np.random, str(tag[1]))()
            bit.state = wire.decode(tag[2])
            return np.random.Generator(bit)
        return NotImplemented

    def _apply_mirrors(self, changed: Any) -> None:
        if not isinstance(changed, dict):
            return
        for mid, value in changed.items():
            obj = _deref(self.mirrors.get(mid))
            if obj is None:
                continue
            try:
                _assign(obj, value)
            except (wire.WireError, ValueError, RuntimeError, TypeError):
                continue

    def _serve_callback(self, msg: tuple) -> None:
        fn = self.callbacks.get(msg[1]) if len(msg) == 4 else None
        try:
            if fn is None:
                raise wire.WireError("unknown callback")
            args = wire.decode(msg[2], self._result_hook)
            kwargs = wire.decode(msg[3], self._result_hook)
            out = fn(*args, **(kwargs if isinstance(kwargs, dict) else {}))
            self.conn.send(("ok", wire.encode(out, self._arg_hook)))
        except Exception as err:  # noqa: BLE001 - reported to the learner's code
            self.conn.send(("raise", f"{type(err).__name__}: {err}"))

    def batch(self, calls: list) -> list:
        """Run [(method, args), ...] in order in one request; the list of results."""
        items = [(m.owner._key, m.name, self.encode(list(args)), self.encode({}))
                 for m, args in calls]
        return self.request("batch", items)

    # -- ops (OpSpec)
    def op(self, args: list, provider: str | None = None) -> Any:
        """Run the exercise's call adapter (or a trusted provider) on `args`."""
        self._dead.extend(self.mirrors)  # the learner's process starts an op afresh
        self.mirrors.clear()
        self._mirror_of.clear()
        return self.request("op", self.encode(list(args)), provider)

    def backward(self, upstream: torch.Tensor) -> list:
        return self.request("backward", self.encode(upstream))


def _deref(ref: Any) -> Any:
    return ref() if isinstance(ref, weakref.ref) else ref


def _assign(obj: Any, value: Any) -> None:
    """Copy a mirrored value from the learner's process into the grader's object, in place."""
    if isinstance(obj, np.random.Generator):
        if isinstance(value, tuple) and value and value[0] == "__g":
            obj.bit_generator.state = wire.decode(value[2])
        return
    fresh = wire.decode(value)
    if isinstance(obj, np.ndarray) and isinstance(fresh, np.ndarray) and \
            fresh.shape == obj.shape and obj.flags.writeable:
        obj[...] = fresh
    elif isinstance(obj, torch.Tensor) and isinstance(fresh, torch.Tensor) and \
            fresh.shape == obj.shape:
        with torch.no_grad():
            obj.detach().copy_(fresh.to(obj.device))


def _tail(path: str, limit: int = 4000) -> str:
    """The last `limit` bytes the child printed (a learner may print gigabytes)."""
    try:
        with open(path, "rb") as f:
            f.seek(max(f.seek(0, os.SEEK_END) - limit, 0))
            return f.read().decode(errors="replace")
    except OSError:
        return ""
