"""Finding and reading exercises: `exercises/<id>/exercise.toml` and its files.

See exercises/README.md for the format. Starters are generated from the
shipped solution: every block between `BEGIN SOLUTION` and `END SOLUTION`
marker lines is replaced by a "not implemented yet" raise/throw (or by the
block's `starter>` lines), so a starter can never drift from its solution.
"""

from __future__ import annotations

import functools
import importlib.resources
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from hubkit.check.patch import materialize

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

KINDS = ("python", "cpp", "cuda", "triton")
NOT_IMPLEMENTED = "not implemented yet"
_BEGIN = re.compile(r"^(\s*)(#|//)\s*BEGIN SOLUTION\b")
_END = re.compile(r"^\s*(#|//)\s*END SOLUTION\b")
_STARTER = re.compile(r"^\s*(#|//)\s?starter>\s?(.*)$")


class ExerciseError(ValueError):
    """An exercise id or folder is wrong; the message is one line for the user."""


@dataclass(frozen=True)
class Wrong:
    """A known-wrong implementation the checker must reject with `expect` in its message.

    Cheats (`cheats/` beside `wrong/`) are the same shape: code that tries to pass
    without doing the work (calling hubkit's reference, forging a verdict, ...).
    A cheat with `timed_min_s` computes the right answer while forging its clock:
    it must pass, timed on the grader's clock at no less than `timed_min_s` per call.
    """

    file: str
    expect: str
    replaces: str
    why: str = ""
    timed_min_s: float | None = None

    @property
    def name(self) -> str:
        return Path(self.file).stem

    def source(self, exercise: Exercise, workdir: Path) -> Path:
        """The wrong learner file: `file` itself, or the solution with `file`'s diff applied."""
        path = exercise.root / self.file
        if path.suffix != ".diff":
            return path
        return materialize(exercise.solution_path(self.replaces), path, workdir)


@dataclass(frozen=True)
class Exercise:
    """One exercise folder, as declared by its exercise.toml."""

    id: str
    title: str
    section: str
    kind: str
    implements: str
    files: tuple[str, ...]
    entry: str
    hints: tuple[str, ...]
    root: Path
    support: tuple[str, ...] = ()
    wrong: tuple[Wrong, ...] = ()
    cheats: tuple[Wrong, ...] = ()
    timeout: float = 60.0
    op: str | None = None
    requires: tuple[str, ...] = ()
    memory_gb: float = 8.0
    """Address space the learner's process may add (RLIMIT_AS) before allocations fail."""

    def missing_packages(self) -> list[str]:
        """Optional packages this exercise needs that are not installed here."""
        import importlib.util

        needed = (*self.requires, "triton") if self.kind == "triton" else self.requires
        return [name for name in needed if importlib.util.find_spec(name) is None]
    build: str | None = None
    """Optional "module:function" returning extra {"include_dirs", "link_args"} for cpp
    exercises that use a third-party library (e.g. vector_rollout_cpp and libmujoco)."""

    def solution_path(self, name: str) -> Path:
        return self.root / "solution" / name

    def support_path(self, name: str) -> Path:
        return self.root / "support" / name

    def starter_text(self, name: str) -> str:
        """The starter for learner file `name`, generated from the solution."""
        return make_starter(self.solution_path(name).read_text(), self.kind)

    def solution_files(self) -> dict[str, Path]:
        return {f: self.solution_path(f) for f in self.files}


def exercises_root() -> Path:
    """The folder holding exercises/<id>/: $HUBKIT_EXERCISES, else the installed package's,
    else the source tree's."""
    env = os.environ.get("HUBKIT_EXERCISES")
    if env:
        if not Path(env).is_dir():
            raise ExerciseError(f"HUBKIT_EXERCISES={env} is not a folder")
        return Path(env)
    try:
        root = importlib.resources.files("hubkit").joinpath("exercises")
        if root.is_dir():
            return Path(str(root))
    except (ModuleNotFoundError, OSError, TypeError):
        pass
    source = Path(__file__).resolve().parents[3] / "exercises"
    if source.is_dir():
        return source
    raise ExerciseError("no exercises folder found: is hubkit installed correctly?")


@functools.cache
def _load_all(root: str) -> tuple[Exercise, ...]:
    found = sorted(Path(root).glob("*/exercise.toml"))
    return tuple(load_exercise(p.parent) for p in found)


def all_exercises(root: Path | None = None) -> list[Exercise]:
    """Every exercise, sorted by id."""
    return list(_load_all(str(root or exercises_root())))


def get_exercise(exercise_id: str, root: Path | None = None) -> Exercise:
    """The exercise with this id; ExerciseError (one line) if there is none."""
    for ex in all_exercises(root):
        if ex.id == exercise_id:
            return ex
    known = ", ".join(e.id for e in all_exercises(root))
    raise ExerciseError(f"no exercise {exercise_id!r}; known exercises: {known}")


def load_exercise(folder: Path) -> Exercise:
    """Read and validate `folder/exercise.toml`."""
    path = Path(folder) / "exercise.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    try:
        kind = data["kind"]
        if kind not in KINDS:
            raise ExerciseError(f"{path}: kind must be one of {KINDS}, got {kind!r}")
        files = tuple(data["files"])
        wrong = _known(data.get("wrong", []), files)
        cheats = _known(data.get("cheat", []), files)
        ex = Exercise(id=data["id"], title=data["title"], section=str(data["section"]),
                      kind=kind, implements=data["implements"], files=files,
                      entry=data["entry"], hints=tuple(data.get("hints", ())),
                      root=Path(folder), support=tuple(data.get("support", ())), wrong=wrong,
                      cheats=cheats,
                      timeout=float(data.get("timeout", 60)), op=data.get("op"),
                      requires=tuple(data.get("requires", ())),
                      build=data.get("build"), memory_gb=float(data.get("memory_gb", 8)))
    except KeyError as missing:
        raise ExerciseError(f"{path}: missing required key {missing}") from None
    if ex.id != Path(folder).name:
        raise ExerciseError(f"{path}: id {ex.id!r} must equal the folder name")
    return ex


def _known(entries: list[dict], files: tuple[str, ...]) -> tuple[Wrong, ...]:
    return tuple(Wrong(w["file"], w["expect"], w.get("replaces", files[0]), w.get("why", ""),
                       w.get("timed_min_s")) for w in entries)


def make_starter(solution: str, kind: str) -> str:
    """Replace each BEGIN/END SOLUTION block by its `starter>` lines or a not-implemented stub."""
    out: list[str] = []
    block: list[str] | None = None
    indent = ""
    for line in solution.splitlines(keepends=True):
        begin = _BEGIN.match(line)
        if block is None and begin:
            block, indent = [], begin.group(1)
        elif block is not None and _END.match(line):
            out.extend(block or [indent + _stub(kind) + "\n"])
            block = None
        elif block is not None:
            starter = _STARTER.match(line)
            if starter:
                block.append(indent + starter.group(2) + "\n")
        else:
            out.append(line)
    if block is not None:
        raise ExerciseError("a BEGIN SOLUTION marker has no END SOLUTION")
    return "".join(out)


def _stub(kind: str) -> str:
    if kind in ("cpp", "cuda"):
        return f'throw std::runtime_error("{NOT_IMPLEMENTED}");'
    return f'raise NotImplementedError("{NOT_IMPLEMENTED}")'
