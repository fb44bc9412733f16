"""The learner's process: load the learner's code, answer calls with data, never judge.

Runs only inside a process started by `hubkit.check.rpc`. It is hardened first
(`hubkit.check.sandbox`: one channel, limits, no network, confined writes, no
hubkit implementations), then serves requests from the grader:

    ("op", inputs)                 run the exercise's call adapter (OpSpec) on inputs
    ("backward", upstream)         backward of the last op's first output
    ("call", target, name, args, kwargs)   call the learner's module / an object it made
    ("getattr", target, name) / ("setattr", target, name, value) / ("oper", name, args)
    ("release", handles)           forget objects and mirrored arrays

and replies ("ok", value, mirrors, info) or ("raise", description). What it
replies is data the grader judges: it cannot be a verdict. While a call runs,
the learner's code may call back into grader-side callables ("callback").

The trusted worker (`trusted=True`) is the same loop without the sandbox and
with hubkit's own reference and shipped op as the "learner": timed providers
then pay the same transfer costs as the learner's code.
"""

from __future__ import annotations

import importlib.util
import operator
import os
import sys
import traceback
import types
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hubkit.check import wire

# subtle: the fork server preloads this module (and torch._dynamo, see rpc), so
# imports here are paid once, not per child. Keep it to imports, no tensor work:
# OpenMP threads started before a fork would hang the children.

_OPERATORS = {name: getattr(operator, name) for name in (
    "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "neg", "pos", "abs", "matmul",
    "lt", "le", "gt", "ge", "eq", "ne", "getitem", "setitem", "contains", "index")}
_OPERATORS |= {"len": len, "float": float, "int": int, "bool": bool, "iter_list": list,
               "str": str, "repr": repr}


# ------------------------------------------------------------------ loading

def _load_file(name: str, path: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _device(kind: str) -> torch.device:
    if kind in ("cuda", "triton") and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def load_learner(payload: dict[str, Any]) -> types.ModuleType:
    """The learner's code as a module: the compiled extension, or the entry Python file."""
    if payload["module"]:
        return _load_file(f"hubkit_ex_{payload['id']}", payload["module"])
    first = next(iter(payload["files"].values()))
    sys.path.insert(0, str(Path(first).parent))
    return _load_file(f"learner_{payload['id']}", first)


# ------------------------------------------------------------------ the server

class Server:
    """Object table, mirrored arrays and the request loop of the learner's process."""

    def __init__(self, conn, payload: dict[str, Any]) -> None:
        self.conn, self.payload = conn, payload
        self.handles: dict[int, Any] = {}
        self.mirrors: dict[int, list] = {}  # id -> [object, bytes when last synced]
        self.module: Any = None
        self.spec: Any = None
        self.ctx: Any = None
        self.last_out: Any = None
        self.op_inputs: list = []
        self.forbidden = tuple(payload.get("forbidden", ()))
        self.guarded = not payload.get("trusted")

    # -- wire hooks
    def _result_hook(self, obj: Any):
        if isinstance(obj, _Method):
            return ("__meth",)
        if isinstance(obj, (torch.Tensor, np.ndarray, np.generic, torch.dtype, slice)):
            return None
        if isinstance(obj, (tuple, list, dict, str, bytes, int, float, complex, bool)) or \
                obj is None or obj is Ellipsis:
            return None
        if isinstance(obj, np.random.Generator):
            return ("__g", type(obj.bit_generator).__name__, wire.encode(obj.bit_generator.state))
        key = id(obj)
        self.handles[key] = obj
        return ("__h", key, type(obj).__name__, callable(obj))

    def _arg_hook(self, tag: tuple):
        kind = tag[0]
        if kind == "__h":
            if tag[1] not in self.handles:
                raise wire.WireError(f"unknown object handle {tag[1]}")
            return self.handles[tag[1]]
        if kind == "__cb":
            return _Callback(self, tag[1], tag[2])
        if kind == "__m":
            return self._mirror(tag[1], tag[2])
        if kind == "__pk":
            import pickle

            return pickle.loads(tag[1])  # from the grader: trusted
        return NotImplemented

    def _mirror(self, mid: int, value: tuple) -> Any:
        if mid in self.mirrors and self.mirrors[mid][1] == value:
            return self.mirrors[mid][0]  # unchanged in the grader: keep ours (and its changes)
        fresh = _from_value(value, self.ctx.device if self.ctx else None)
        if mid in self.mirrors:
            current = self.mirrors[mid][0]
            if _copy_into(current, fresh):
                fresh = current
        self.mirrors[mid] = [fresh, value]
        return fresh

    def _changed_mirrors(self) -> dict[int, Any]:
        out = {}
        for mid, entry in self.mirrors.items():
            now = _value_of(entry[0])
            if now != entry[1]:
                entry[1] = now
                out[mid] = now
        return out

    # -- requests
    def serve(self) -> None:
        while True:
            try:
                dead, request = self.conn.recv()
            except (EOFError, OSError, ValueError, TypeError):
                return
            for mid in dead:
                self.mirrors.pop(mid, None)
            if request[0] == "exit":
                return
            self.conn.send_bytes(wire.dumps(self.answer(request)))

    def answer(self, request: tuple) -> tuple:
        from hubkit.check.spec import CheckFailure

        guard = _guard(self.forbidden) if self.guarded else None
        try:
            if guard is not None:
                with guard:
                    value = self._dispatch(request)
            else:
                value = self._dispatch(request)
            reply = wire.encode(value, self._result_hook)
            info = {"aliases": self._aliases(value)} if request[0] == "op" else {}
            return ("ok", reply, self._changed_mirrors(), info)
        except CheckFailure as err:
            return ("fail", str(err), self._changed_mirrors())
        except BaseException as err:  # noqa: BLE001 - learner code may raise anything
            return ("raise", describe(err, self.payload), self._changed_mirrors())

    def _dispatch(self, request: tuple) -> Any:
        verb = request[0]
        if verb == "op":
            args = wire.decode(request[1], self._arg_hook)
            self.op_inputs = args
            self.last_out = self._call_op(args, request[2])
            return self.last_out
        if verb == "backward":
            return self._backward(wire.decode(request[1], self._arg_hook))
        if verb == "release":
            self.mirrors.clear()
            for key in request[1] or list(self.handles):
                self.handles.pop(key, None)
            self.last_out, self.op_inputs = None, []
            return None
        if verb == "oper":
            args = wire.decode(request[2], self._arg_hook)
            return _OPERATORS[request[1]](*args)
        if verb == "batch":
            return [self._dispatch(("call", *item)) for item in request[1]]
        target = self.module if request[1] is None else self.handles[request[1]]
        if verb == "getattr":
            value = getattr(target, request[2])
            return _Method() if _is_method(value) else value
        if verb == "setattr":
            setattr(target, request[2], wire.decode(request[3], self._arg_hook))
            return None
        if verb == "call":
            args = wire.decode(request[3], self._arg_hook)
            kwargs = wire.decode(request[4], self._arg_hook)
            fn = target if request[2] is None else getattr(target, request[2])
            return fn(*args, **kwargs)
        raise wire.WireError(f"unknown request {verb!r}")

    def _call_op(self, args: list, provider: str | None) -> Any:
        if self.payload.get("trusted"):
            return getattr(self.module, provider)(*args)
        call = getattr(self.spec, "call", None)
        if call is not None:
            return call(self.module, self.ctx, *args)
        fn = getattr(self.module, self.payload["entry"], None)
        if fn is None:
            from hubkit.check.spec import CheckFailure

            raise CheckFailure(f"your code defines no `{self.payload['entry']}`: keep the "
                               "starter's function name")
        return fn(*args)

    def _backward(self, upstream: Any) -> list:
        out = self.last_out[0] if isinstance(self.last_out, (tuple, list)) else self.last_out
        if not isinstance(out, torch.Tensor) or not out.requires_grad:
            return [None] * len(self.op_inputs)
        out.backward(upstream.to(out.dtype).to(out.device))
        return [a.grad if isinstance(a, torch.Tensor) else None for a in self.op_inputs]

    def _aliases(self, value: Any) -> list[int]:
        """Indices of op inputs that an output shares memory with (a view, not a new tensor)."""
        outs = value if isinstance(value, (tuple, list)) else (value,)
        found = []
        for i, a in enumerate(self.op_inputs):
            for o in outs:
                if _shares(a, o):
                    found.append(i)
        return found


class _Method:
    """Marker reply: the attribute is a method; the grader calls it by name."""


def _is_method(value: Any) -> bool:
    """Functions and bound methods (Python or pybind11): called by name, never held."""
    return isinstance(value, (types.MethodType, types.BuiltinMethodType, types.FunctionType,
                              types.BuiltinFunctionType, types.MethodWrapperType))


def _shares(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return a.numel() > 0 and b.numel() > 0 and \
            a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return a.size > 0 and b.size > 0 and np.shares_memory(a, b)
    return False


class _Callback:
    """A grader-side function as the learner's code sees it: calls go back over the channel."""

    def __init__(self, server: Server, key: int, name: str) -> None:
        self.server, self.key, self.__name__ = server, key, name

    def __call__(self, *args, **kwargs):
        s = self.server
        s.conn.send_bytes(wire.dumps(("callback", self.key,
                                      wire.encode(list(args), s._result_hook),
                                      wire.encode(kwargs, s._result_hook))))
        reply = s.conn.recv()
        if reply[0] == "raise":
            raise RuntimeError(f"{self.__name__} raised in the grader: {reply[1]}")
        return wire.decode(reply[1], s._arg_hook)

    def __repr__(self) -> str:
        return f"<function {self.__name__}>"


def _from_value(value: tuple, device) -> Any:
    if value[0] == "__g":
        bit = getattr(np.random, value[1])()
        bit.state = wire.decode(value[2])
        return np.random.Generator(bit)
    if value[0] == "__t":
        return wire.tensor_from(value, device)
    return wire.decode(value)


def _value_of(obj: Any) -> tuple:
    if isinstance(obj, np.random.Generator):
        return ("__g", type(obj.bit_generator).__name__, wire.encode(obj.bit_generator.state))
    return wire.encode(obj)


def _copy_into(current: Any, fresh: Any) -> bool:
    """Refresh a mirrored object in place (its identity is what the learner holds)."""
    if isinstance(current, np.random.Generator) and isinstance(fresh, np.random.Generator):
        current.bit_generator.state = fresh.bit_generator.state
        return True
    same = type(current) is type(fresh) and getattr(current, "shape", 0) == \
        getattr(fresh, "shape", 1) and getattr(current, "dtype", 0) == getattr(fresh, "dtype", 1)
    if same and isinstance(current, np.ndarray) and current.flags.writeable:
        current[...] = fresh
        return True
    if same and isinstance(current, torch.Tensor):
        with torch.no_grad():
            current.detach().copy_(fresh)
        return True
    return False


def _guard(forbidden):
    from hubkit.check.guards import LearnerGuard

    return LearnerGuard(forbidden)


def describe(err: BaseException, payload: dict[str, Any]) -> dict[str, Any]:
    """An exception as data: its type, text and the learner's own frames."""
    from hubkit.check.exercises import NOT_IMPLEMENTED

    frames = traceback.extract_tb(err.__traceback__)
    mine = {str(Path(p).resolve()) for p in payload.get("files", {}).values()}
    learner_frames = [f for f in frames if str(Path(f.filename).resolve()) in mine]
    out = {"type": type(err).__name__, "text": str(err)[:4000],
           "frames": "".join(traceback.format_list(learner_frames or frames[-3:]))[-4000:],
           "not_implemented": isinstance(err, NotImplementedError) or NOT_IMPLEMENTED in str(err),
           "memory": isinstance(err, MemoryError) or "can't allocate memory" in str(err)
           or "bad_alloc" in str(err) or "out of memory" in str(err).lower(),
           "builtin": type(err).__name__ if _is_builtin_exception(type(err)) else None}
    if isinstance(err, SyntaxError):
        where = f"{err.filename}:{err.lineno}: " if err.filename else ""
        out["syntax"] = f"{where}SyntaxError: {err.msg}\n    {(err.text or '').rstrip()}"
    return out


def _is_builtin_exception(cls: type) -> bool:
    import builtins

    return getattr(builtins, cls.__name__, None) is cls


# ------------------------------------------------------------------ entry point

def _redirect_output(log: str) -> None:
    fd = os.open(log, os.O_WRONLY | os.O_APPEND)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _harden(conn, payload: dict[str, Any]) -> dict[str, Any]:
    from hubkit.check import sandbox

    scratch = payload["scratch"]
    os.chdir(scratch)
    os.environ["HOME"] = os.environ["TMPDIR"] = scratch
    os.environ["TRITON_CACHE_DIR"] = os.path.join(scratch, ".triton")
    sandbox.close_fds({0, 1, 2, conn.fileno()})
    limits = payload["limits"]
    applied = sandbox.set_limits(limits["memory_gb"], limits["cpu_s"], limits.get("tasks", 256),
                                 gpu=bool(payload.get("gpu")))
    applied["network_namespace"] = sandbox.isolate_network()
    # subtle: the CUDA driver opens /dev/nvidia* read-write; those are devices, not files.
    devices = ("/dev",) if payload.get("gpu") else ("/dev/null",)
    applied["landlock"] = sandbox.confine_writes(scratch, devices)
    return applied


def _prepare(payload: dict[str, Any]) -> None:
    from hubkit.check import timing

    if payload["kind"] == "triton" and not torch.cuda.is_available():
        os.environ["TRITON_INTERPRET"] = "1"  # before the learner's code imports triton
    timing.pin_numerics(payload.get("threads"))


def main(conn, payload: dict[str, Any]) -> None:
    """Entry point of the learner's process (or of the trusted worker)."""
    _redirect_output(payload["log"])
    server = Server(conn, payload)
    try:
        if payload.get("trusted"):
            _prepare(payload)
            spec = _load_file(f"hubkit_spec_{payload['id']}",
                              str(Path(payload["root"]) / "spec.py")).SPEC
            server.module = types.SimpleNamespace(reference=spec.reference, shipped=spec.shipped)
        else:
            _start_learner(server, conn, payload)
        conn.send_bytes(wire.dumps(("ready", {})))
    except BaseException as err:  # noqa: BLE001 - loading learner code may raise anything
        conn.send_bytes(wire.dumps(("raise", describe(err, payload), {})))
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    server.serve()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # subtle: a learner's thread must not keep this process alive


def _start_learner(server: Server, conn, payload: dict[str, Any]) -> None:
    from hubkit.check import sandbox
    from hubkit.check.spec import CheckContext

    # subtle: harden before any torch work: unshare(CLONE_NEWUSER) needs a single thread.
    applied = _harden(conn, payload)
    _prepare(payload)
    for name in [m for m in sys.modules if m.startswith("hubkit.")
                 and not m.startswith("hubkit.check")]:
        del sys.modules[name]
    sys.meta_path.insert(0, sandbox.StubFinder())
    if payload.get("op"):
        server.spec = _load_file(f"hubkit_spec_{payload['id']}",
                                 str(Path(payload["root"]) / "spec.py")).SPEC
    server.ctx = CheckContext(gen=torch.Generator(), device=_device(payload["kind"]),
                              forbidden=server.forbidden, exercise=payload["id"])
    sandbox.install_audit_hook(payload["scratch"], bool(applied.get("landlock")))
    sandbox.block_forbidden_kernels(server.forbidden)
    server.module = load_learner(payload)
