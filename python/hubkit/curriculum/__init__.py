"""The 28-week curriculum as data: parts, sections and learning objectives.

The outline ships as ``outline.toml`` beside this module. Each objective links to the
hubkit modules that teach it and to the checker exercises whose passes tick it; an
objective with neither link is *planned*. Only real passes tick: see :func:`ticked`.

Example:
    >>> from hubkit.curriculum import find_section, objectives_for_exercise
    >>> find_section("4.1").title
    'Convolutional Neural Networks'
    >>> [o.id for o in objectives_for_exercise("conv2d_numpy")]
    ['4.1.a']
"""

import functools
import importlib.resources
import importlib.util
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on Python 3.10
    import tomli as tomllib


@dataclass(frozen=True)
class Objective:
    """One checkbox, e.g. ``4.1.a``: ``modules`` teach it; passing all ``exercises`` ticks it."""

    id: str
    text: str
    modules: tuple[str, ...] = ()
    exercises: tuple[str, ...] = ()

    @property
    def planned(self) -> bool:
        """True when no module or exercise covers this objective yet."""
        return not self.modules and not self.exercises


@dataclass(frozen=True)
class Section:
    """One numbered section of a part, e.g. ``4.1``."""

    id: str
    title: str
    concepts: tuple[str, ...]
    practice: tuple[str, ...]
    key_project: str | None
    objectives: tuple[Objective, ...]


@dataclass(frozen=True)
class Part:
    """One part of the outline; ``weeks`` is the inclusive (first, last) week."""

    id: str
    title: str
    weeks: tuple[int, int]
    sections: tuple[Section, ...]


def load_outline(path: str | Path | None = None) -> list[Part]:
    """Load and validate the curriculum outline.

    Args:
        path: A TOML file to read instead of the packaged (and cached) ``outline.toml``.

    Returns:
        The parts, in outline order.

    Raises:
        ValueError: An id is missing, duplicated or not prefixed by its parent's id.
    """
    if path is None:
        return list(_load_packaged())
    return list(_parse(Path(path).read_text(encoding="utf-8")))


@functools.lru_cache(maxsize=1)
def _load_packaged() -> tuple[Part, ...]:
    resource = importlib.resources.files(__name__).joinpath("outline.toml")
    return _parse(resource.read_text(encoding="utf-8"))


def _parse(text: str) -> tuple[Part, ...]:
    try:
        parts = tuple(_build_part(p) for p in tomllib.loads(text).get("part", []))
    except KeyError as missing:
        raise ValueError(f"an outline entry is missing the required key {missing}") from None
    _validate(parts)
    return parts


def _build_objective(t: dict[str, Any]) -> Objective:
    modules, exercises = tuple(t.get("modules", ())), tuple(t.get("exercises", ()))
    return Objective(t["id"], t["text"], modules, exercises)


def _build_section(t: dict[str, Any]) -> Section:
    concepts, practice = tuple(t.get("concepts", ())), tuple(t.get("practice", ()))
    objectives = tuple(_build_objective(o) for o in t.get("objective", []))
    return Section(t["id"], t["title"], concepts, practice, t.get("key_project"), objectives)


def _build_part(t: dict[str, Any]) -> Part:
    sections = tuple(_build_section(s) for s in t.get("section", []))
    return Part(t["id"], t["title"], tuple(t["weeks"]), sections)


def _validate(parts: tuple[Part, ...]) -> None:
    """Raise ValueError naming the first id that is duplicated or lacks its parent's prefix."""
    pairs = [(p.id, "") for p in parts]
    pairs += [(s.id, p.id + ".") for p in parts for s in p.sections]
    pairs += [(o.id, s.id + ".") for p in parts for s in p.sections for o in s.objectives]
    seen: set[str] = set()
    for item_id, prefix in pairs:
        if item_id in seen:
            raise ValueError(f"duplicate outline id {item_id!r}")
        if not item_id.startswith(prefix):
            raise ValueError(f"outline id {item_id!r} must start with {prefix!r}")
        seen.add(item_id)


def iter_objectives(parts: Iterable[Part] | None = None) -> Iterator[Objective]:
    """Yield every objective in outline order (from the packaged outline by default)."""
    for part in load_outline() if parts is None else parts:
        for section in part.sections:
            yield from section.objectives


def find_section(section_id: str, parts: Iterable[Part] | None = None) -> Section:
    """Return the section with this id, e.g. ``"4.1"``; KeyError if there is none."""
    for part in load_outline() if parts is None else parts:
        for section in part.sections:
            if section.id == section_id:
                return section
    raise KeyError(f"no section {section_id!r} in the outline")


def coverage(parts: Iterable[Part] | None = None) -> dict[str, int]:
    """Count objectives: ``total``, ``linked`` (module or exercise) and ``planned``."""
    objectives = list(iter_objectives(parts))
    planned = sum(o.planned for o in objectives)
    return {"total": len(objectives), "linked": len(objectives) - planned, "planned": planned}


def objectives_for_exercise(
    exercise_id: str, parts: Iterable[Part] | None = None
) -> list[Objective]:
    """Return the objectives that list ``exercise_id``, in outline order."""
    return [o for o in iter_objectives(parts) if exercise_id in o.exercises]


def ticked(objective: Objective, passed_exercises: set[str]) -> bool:
    """Whether real passes tick this objective.

    Args:
        objective: The objective to test.
        passed_exercises: Ids of exercises the learner's code has passed.

    Returns:
        True only if it lists an exercise and all of them passed; module links never tick.
    """
    return bool(objective.exercises) and set(objective.exercises) <= set(passed_exercises)


def tickable(objective: Objective, known_exercises: Iterable[str]) -> bool:
    """Whether passes can tick this objective today.

    Args:
        objective: The objective to test.
        known_exercises: Ids of the exercises that exist (e.g. ``hubkit.check.all_exercises``).

    Returns:
        True when it lists an exercise and every one of them exists; otherwise the
        objective is *planned* for ticking, even if a module already teaches it.
    """
    return bool(objective.exercises) and set(objective.exercises) <= set(known_exercises)


def progress_counts(
    passed_exercises: set[str], known_exercises: Iterable[str],
    parts: Iterable[Part] | None = None,
) -> dict[str, int]:
    """Count objectives for `hubkit progress`.

    Returns:
        ``{"ticked", "tickable", "planned"}``: ticked by real passes, tickable today
        (every listed exercise exists), and planned (no exercise can tick it yet);
        ``tickable + planned`` is every objective.

    Example:
        >>> counts = progress_counts({"conv2d_numpy"}, ["conv2d_numpy"])
        >>> counts["ticked"], counts["tickable"]
        (1, 1)
    """
    known = set(known_exercises)
    objectives = list(iter_objectives(parts))
    can = [o for o in objectives if tickable(o, known)]
    return {"ticked": sum(ticked(o, passed_exercises) for o in can), "tickable": len(can),
            "planned": len(objectives) - len(can)}


def _module_resolves(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:  # subtle: find_spec imports parents; a missing parent raises
        return False


def link_status(
    exercises_dir: str | Path | None = None, parts: Iterable[Part] | None = None
) -> dict[str, dict[str, bool]]:
    """Report which linked modules and exercises exist right now.

    Args:
        exercises_dir: Folder of ``<exercise_id>/exercise.toml``; None skips exercises.
        parts: Outline to inspect; the packaged one by default.

    Returns:
        ``{"modules": {name: resolves}, "exercises": {id: exists}}``, sorted by name;
        the ``"exercises"`` key only when ``exercises_dir`` is given.
    """
    objectives = list(iter_objectives(parts))
    modules = sorted({m for o in objectives for m in o.modules})
    report = {"modules": {m: _module_resolves(m) for m in modules}}
    if exercises_dir is not None:
        root = Path(exercises_dir)
        exercises = sorted({e for o in objectives for e in o.exercises})
        report["exercises"] = {e: (root / e / "exercise.toml").is_file() for e in exercises}
    return report
