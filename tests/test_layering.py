"""The package's layers, read from the source: which modules may import which.

ARCHITECTURE.md: a topic slice never imports the checker, and the checker never
holds topic code. Code that exercises need lives in `hubkit.exercise_support`,
which may import both. Every import counts, including ones inside functions.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import hubkit

PACKAGE = Path(hubkit.__file__).parent
# Not topic slices: the checker, exercise support, and the public facades.
TOOLS = {"check", "exercise_support", "nn", "ops"}
SLICES = sorted(p.name for p in PACKAGE.iterdir()
                if p.is_dir() and (p / "__init__.py").exists() and p.name not in TOOLS)
# (checker module, slice module) imports that are known and allowed, with the reason.
ALLOWED_IN_CHECKER = {
    # `hubkit doctor` reports whether hubkit._mujoco loads and matches mujoco; the
    # loader lives with the envs slice. An install diagnostic, not topic code.
    ("check/doctor.py", "hubkit.envs.vector"),
}


def imported_modules(path: Path) -> set[str]:
    """Absolute names of every module `path` imports, anywhere in the file."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            names.add(base)
            names.update(f"{base}.{a.name}" for a in node.names)  # `from hubkit import check`
    return names


def _under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def test_layering_scan_sees_slices_and_every_import_form(tmp_path, monkeypatch):
    assert {"activations", "attention", "cnn", "envs", "peft", "rl"} <= set(SLICES)
    module = tmp_path / "hubkit" / "cnn" / "demo.py"
    module.parent.mkdir(parents=True)
    module.write_text("import hubkit.check.build\nfrom hubkit import check\n"
                      "def f():\n    from ..check import runner\n    from . import ops\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path / "hubkit")
    assert {"hubkit.check.build", "hubkit.check", "hubkit.check.runner",
            "hubkit.cnn.ops"} <= imported_modules(module)


@pytest.mark.parametrize("slice_name", SLICES)
def test_no_slice_imports_the_checker_or_exercise_support(slice_name):
    bad = [(str(p.relative_to(PACKAGE)), n) for p in _modules(slice_name)
           for n in imported_modules(p)
           if _under(n, "hubkit.check") or _under(n, "hubkit.exercise_support")]
    assert not bad, f"a topic slice imports the checker or exercise support: {bad}"


def _allowed_in_checker(module: str, name: str) -> bool:
    return any(module == m and _under(name, n) for m, n in ALLOWED_IN_CHECKER)


def test_the_checker_imports_no_topic_slice():
    bad = [(str(p.relative_to(PACKAGE)), n) for p in _modules("check")
           for n in imported_modules(p)
           if any(_under(n, f"hubkit.{s}") for s in [*SLICES, "nn", "ops", "exercise_support"])
           and not _allowed_in_checker(str(p.relative_to(PACKAGE)), n)]
    assert not bad, f"the checker imports topic code (move it to hubkit.exercise_support): {bad}"


def test_exercise_support_is_the_one_home_of_the_moved_helpers():
    from hubkit.exercise_support import conv2d_cases, rollout_check

    assert callable(conv2d_cases.conv_cases) and callable(rollout_check.build_flags)
    assert not (PACKAGE / "check" / "conv2d_cases.py").exists()
    assert not (PACKAGE / "envs" / "rollout_check.py").exists()
