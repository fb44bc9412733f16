"""Compiling a learner's C++/CUDA files into a pybind11 module, cached by content hash.

Layout of a cpp/cuda exercise (see exercises/README.md): the learner edits
plain C++ (`files`); the exercise ships the header and `bindings.cpp`
(`support`), whose `PYBIND11_MODULE(HUBKIT_MODULE, m)` registers the learner's
functions. Each source compiles to its own object with hubkit's flags
(C++17, -O3, OpenMP), so the heavy pybind11 translation unit is compiled once
per exercise and a learner's edit recompiles only their file (~0.5 s).
Objects and modules are cached under `$HUBKIT_CACHE` (default
~/.cache/hubkit/build) by a hash of compiler, flags and file contents.

When a compile fails, the learner reads the errors first, then the warnings
in their own files; warnings in files they do not edit (the exercise's
`support/` files, pybind11, system headers) are counted, not shown.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import subprocess
import sysconfig
import tempfile
from pathlib import Path

CXX_FLAGS = ("-std=c++17", "-O3", "-Wall", "-Wextra", "-fno-math-errno", "-fPIC", "-fopenmp")
NVCC_FLAGS = ("-std=c++17", "-O3", "--use_fast_math", "-lineinfo", "-Xcompiler", "-fPIC")


class CompileError(Exception):
    """The compiler rejected the code; str() is its output (errors first, see
    `filter_diagnostics`)."""


# "path:12:5: error: ..." (gcc, clang) or "path(12): error: ..." (nvcc)
_DIAGNOSTIC = re.compile(r"^(?P<path>[^:(\n]+?)(?::(?P<line>\d+)(?::\d+)?|\((?P<nline>\d+)\)): "
                         r"(?P<kind>fatal error|error|warning|note|remark): ")
# lines that introduce the next diagnostic: "In file included from", "x.cpp: In function ..."
_CONTEXT = re.compile(r"^(In file included from |\s+from |[^:\n]+: (In|At) )")


def _blocks(text: str) -> list[tuple[str | None, str | None, list[str]]]:
    """Split compiler output into (kind, path, lines) diagnostics; kind None for the rest."""
    blocks: list[tuple[str | None, str | None, list[str]]] = []
    pending: list[str] = []  # context lines waiting for the diagnostic they introduce
    for line in text.splitlines():
        match = _DIAGNOSTIC.match(line)
        if match and match["kind"] not in ("note", "remark"):
            blocks.append((match["kind"], match["path"], pending + [line]))
            pending = []
        elif _CONTEXT.match(line) or not blocks:
            pending.append(line)
        else:  # the source excerpt, the caret, notes: part of the diagnostic above
            (pending or blocks[-1][2]).append(line)
    if pending:
        blocks.append((None, None, pending))
    return blocks


def _is_in(path: str | None, focus: set[Path]) -> bool:
    return path is not None and Path(path).resolve() in focus


def filter_diagnostics(text: str, focus: list[Path]) -> str:
    """Errors first (from any file), then warnings in the `focus` files (the learner's);
    other warnings are dropped and counted. Output that is not diagnostics is kept as is.

    Example:
        >>> out = ("/s/support/h.h:1:9: warning: unused parameter 'u' [-Wunused-parameter]\\n"
        ...        "/w/mine.cpp:3:5: error: 'y' was not declared in this scope\\n")
        >>> print(filter_diagnostics(out, [Path("/w/mine.cpp")]))
        /w/mine.cpp:3:5: error: 'y' was not declared in this scope
        (1 warning in files you do not edit hidden)
    """
    blocks = _blocks(text)
    if not any(kind for kind, _, _ in blocks):
        return text
    wanted = {Path(p).resolve() for p in focus}
    errors = [b for b in blocks if b[0] in ("error", "fatal error")]
    mine = [b for b in blocks if b[0] == "warning" and _is_in(b[1], wanted)]
    rest = [b for b in blocks if b[0] is None]
    hidden = sum(b[0] == "warning" for b in blocks) - len(mine)
    lines = [ln for _, _, block in errors + mine + rest for ln in block]
    if hidden:
        lines.append(f"({hidden} warning{'s' if hidden > 1 else ''} in files you do not edit "
                     "hidden)")
    return "\n".join(lines)


def cache_dir() -> Path:
    root = os.environ.get("HUBKIT_CACHE") or Path.home() / ".cache" / "hubkit"
    path = Path(root) / "build"
    path.mkdir(parents=True, exist_ok=True)
    return path


def cxx() -> str:
    found = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++")
    if not found:
        raise CompileError("no C++ compiler found: install g++ or clang++ (or set CXX)")
    return found


def cuda_archs() -> list[str]:
    """GPU architectures to build learner CUDA code for: $HUBKIT_CUDA_ARCHS ("80;90"),
    else this machine's GPU, else sm_80 alone (without a GPU the build only proves it compiles)."""
    env = os.environ.get("HUBKIT_CUDA_ARCHS")
    if env:
        return [a.strip() for a in env.split(";") if a.strip()]
    import torch

    if torch.cuda.is_available():
        major, minor = torch.cuda.get_device_capability()
        return [f"{major}{minor}"]
    return ["80"]


def _gencode() -> list[str]:
    out = []
    for arch in cuda_archs():
        out += ["-gencode", f"arch=compute_{arch},code=sm_{arch}"]
    return out


def nvcc() -> str | None:
    return shutil.which("nvcc") or (os.environ.get("CUDACXX") or None)


@functools.cache
def _tool_version(tool: str) -> str:
    try:
        return subprocess.run([tool, "--version"], capture_output=True, text=True,
                              timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return tool


def _pybind11_include() -> str:
    try:
        import pybind11
    except ImportError:
        raise CompileError("building cpp/cuda exercises needs pybind11: "
                           "pip install pybind11") from None
    return pybind11.get_include()


def _includes(include_dirs: list[Path]) -> list[str]:
    py_inc = sysconfig.get_paths()["include"]
    out = ["-isystem", py_inc, "-isystem", _pybind11_include()]
    for d in include_dirs:
        out += ["-I", str(d)]
    return out


def _digest(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else p.encode())
        h.update(b"\0")
    return h.hexdigest()[:24]


def _run(cmd: list[str], timeout: float) -> None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise CompileError(f"the compiler ran over {timeout:.0f} s: {cmd[0]}") from None
    if proc.returncode != 0:
        raise CompileError((proc.stderr + proc.stdout).strip())


def compile_object(source: Path, module: str, include_dirs: list[Path],
                   timeout: float = 300, focus: list[Path] | None = None) -> Path:
    """Compile one .cpp/.cu into a cached object file.

    Raises:
        CompileError: the compiler's text, errors first, warnings only from `focus`
            (default: `source`).
    """
    is_cuda = source.suffix == ".cu"
    tool = nvcc() if is_cuda else cxx()
    if tool is None:
        raise CompileError("nvcc not found: install the CUDA toolkit to build a cuda exercise")
    flags = [*NVCC_FLAGS, *_gencode()] if is_cuda else list(CXX_FLAGS)
    flags.append(f"-DHUBKIT_MODULE={module}")
    headers = sorted(p for d in include_dirs for p in Path(d).glob("*.h*"))
    key = _digest(_tool_version(tool), " ".join(flags), source.read_bytes(),
                  *[h.read_bytes() for h in headers])
    obj = cache_dir() / f"{source.stem}-{key}.o"
    if obj.exists():
        return obj
    tmp = Path(tempfile.mkstemp(suffix=".o", dir=cache_dir())[1])
    cmd = [tool, *flags, *_includes(include_dirs), "-c", str(source), "-o", str(tmp)]
    try:
        _run(cmd, timeout)
        os.replace(tmp, obj)  # atomic: a concurrent check never sees half an object
    except CompileError as err:
        raise CompileError(filter_diagnostics(str(err), focus or [source])) from None
    finally:
        tmp.unlink(missing_ok=True)
    return obj


def link_module(objects: list[Path], module: str, cuda: bool, timeout: float = 120,
                link_args: tuple[str, ...] = ()) -> Path:
    """Link objects into `<module><EXT_SUFFIX>` in a cache folder named by their hash."""
    key = _digest(module, *[o.name for o in objects], *link_args)
    folder = cache_dir() / f"mod-{key}"
    target = folder / f"{module}{sysconfig.get_config_var('EXT_SUFFIX')}"
    if target.exists():
        return target
    folder.mkdir(exist_ok=True)
    tmp = folder / f"tmp-{os.getpid()}.so"
    if cuda:
        cmd = [nvcc() or "nvcc", "-shared", "--cudart", "static", "-Xcompiler", "-fopenmp",
               *map(str, objects), "-o", str(tmp)]
    else:
        cmd = [cxx(), "-shared", "-fopenmp", *map(str, objects), *link_args, "-o", str(tmp)]
    try:
        _run(cmd, timeout)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def build_module(sources: list[Path], module: str, include_dirs: list[Path],
                 link_args: tuple[str, ...] = ()) -> Path:
    """Compile and link `sources` into an importable pybind11 module; return its path.

    Sources in a folder named `support` are the exercise's own; the others are the
    learner's, and only their warnings are shown when a compile fails.
    """
    focus = [s for s in sources if Path(s).parent.name != "support"]
    objects = [compile_object(s, module, include_dirs, focus=focus) for s in sources]
    return link_module(objects, module, cuda=any(s.suffix == ".cu" for s in sources),
                       link_args=tuple(link_args))
