"""`hubkit doctor`: the truth about this machine, without importing optional packages."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import platform
import shutil

import numpy
import torch
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import hubkit
from hubkit import _backend, _ext

# Optional packages: (import name, distribution name, what needs it).
OPTIONAL = [
    ("triton", "triton", "Triton kernels (hubkit-learn[triton])"),
    ("gymnasium", "gymnasium", "RL environments (hubkit-learn[gym])"),
    ("mujoco", "mujoco", "MuJoCo rollouts (hubkit-learn[gym])"),
    ("transformers", "transformers", "LLM models (hubkit-learn[llm])"),
    ("safetensors", "safetensors", "checkpoints (hubkit-learn[llm])"),
    ("matplotlib", "matplotlib", "plots (hubkit-learn[plot])"),
    ("watchfiles", "watchfiles", "`hubkit watch` (hubkit-learn[watch])"),
    ("sklearn", "scikit-learn", "datasets (hubkit-learn[data])"),
    ("pytest_benchmark", "pytest-benchmark", "`hubkit bench`"),
]


def _installed(module: str, dist: str) -> str | None:
    """The installed version, or None; finds the package without importing it."""
    try:
        if importlib.util.find_spec(module) is None:
            return None
    except (ImportError, ValueError):
        return None
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "installed"


def _triton_mode() -> str:
    if _installed("triton", "triton") is None:
        return "not installed"
    if torch.cuda.is_available():
        return "GPU"
    if _backend.triton_interpreted():
        return "interpreter (TRITON_INTERPRET=1, CPU)"
    return "installed; no GPU: set TRITON_INTERPRET=1 to run kernels on the CPU"


def _versions() -> Table:
    t = Table(title="versions", title_justify="left", show_header=False)
    t.add_row("hubkit", hubkit.__version__)
    t.add_row("python", platform.python_version())
    t.add_row("torch", torch.__version__)
    t.add_row("numpy", numpy.__version__)
    t.add_row("platform", f"{platform.system()} {platform.release()} {platform.machine()}")
    return t


def _backends() -> Table:
    t = Table(title="backends", title_justify="left")
    t.add_column("backend")
    t.add_column("status")
    for name in _backend.BACKENDS:
        reason = _backend.unavailable_reason(name)
        device = _backend.device_reason(name)
        if reason is not None:
            t.add_row(name, f"[red]no[/red]: {escape(reason)}")
        elif device is not None:
            t.add_row(name, f"[yellow]loaded[/yellow]; not runnable here: {escape(device)}")
        else:
            t.add_row(name, "[green]available[/green]")
    return t


def _build() -> Table:
    t = Table(title="compiled extensions (recorded at install)", title_justify="left",
              show_header=False)
    for key, value in _ext.build_info().items():
        t.add_row(key, str(value))
    t.add_row("C++ compiler now", shutil.which("c++") or shutil.which("g++") or "none on PATH")
    t.add_row("nvcc now", shutil.which("nvcc") or "none on PATH")
    return t


def _devices() -> Table:
    t = Table(title="devices", title_justify="left", show_header=False)
    if torch.cuda.is_available():
        t.add_row("CUDA", f"yes: {torch.cuda.get_device_name(0)} (torch CUDA {torch.version.cuda})")
    else:
        t.add_row("CUDA", "no CUDA device (cuda exercises compile but do not run)")
    t.add_row("Triton", _triton_mode())
    t.add_row("CPU threads", str(torch.get_num_threads()))
    return t


def _optional() -> Table:
    t = Table(title="optional packages", title_justify="left")
    for col in ("package", "version", "for"):
        t.add_column(col)
    for module, dist, why in OPTIONAL:
        version = _installed(module, dist)
        t.add_row(dist, version or "[yellow]not installed[/yellow]", escape(why))
    return t


def report(console: Console | None = None) -> None:
    """Print every doctor table."""
    console = console or Console()
    for table in (_versions(), _build(), _backends(), _devices(), _optional()):
        console.print(table)


def _mujoco_problem() -> str | None:
    """Why the C++ MuJoCo env cannot be used, or None when it loads and matches mujoco."""
    if _installed("mujoco", "mujoco") is None:
        return "the mujoco package is not installed (pip install 'hubkit-learn[gym]')"
    try:
        from hubkit.envs.vector import load_extension

        load_extension()
    except ImportError as err:
        return str(err)
    return None


def strict_problems() -> list[str]:
    """What a full install lacks: each compiled extension that is missing, and why.

    `hubkit doctor --strict` (run by CI before the tests) fails on these, so a
    build that silently dropped an extension cannot pass as a run of skipped
    tests. CUDA counts only when the build was asked for it (HUBKIT_CUDA=ON).
    """
    info = _ext.build_info()
    problems = []
    if _ext.cpp_module() is None:
        problems.append(f"the C++ extension hubkit._C: {info.get('cpp')}; "
                        f"{_ext.load_error('_C')}")
    if (why := _mujoco_problem()) is not None:
        problems.append(f"the MuJoCo extension hubkit._mujoco ({info.get('mujoco')}): {why}")
    if info.get("cuda_request") == "ON" and _ext.cuda_module() is None:
        problems.append(f"the CUDA extension hubkit._cuda (HUBKIT_CUDA=ON): {info.get('cuda')}; "
                        f"{_ext.load_error('_cuda')}")
    return problems


def run(console: Console | None = None, strict: bool = False) -> int:
    """Print the report; with `strict`, also the missing extensions. Returns the exit status."""
    console = console or Console()
    report(console)
    problems = strict_problems() if strict else []
    for problem in problems:
        console.print(f"[red]missing[/red] {escape(problem)}")
    if strict and not problems:
        console.print("[green]strict: every compiled extension is built and loads[/green]")
    return 1 if problems else 0
