"""The learner's workspace: starters, results and progress live here, never in site-packages.

Layout made by `hubkit init DIR`:

    DIR/hubkit-progress.json      which exercises passed (and hints seen); marks the workspace
    DIR/README.md                 how to work in it
    DIR/<id>/<files>              the starters (and support files) of every exercise
    DIR/results/<id>.json         the latest result of `hubkit check <id>`
    DIR/results/history.jsonl     every result, one JSON object a line
    DIR/history/<id>.jsonl        every passing attempt and its speed (hubkit.check.history)
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from hubkit.check import history
from hubkit.check.exercises import Exercise, ExerciseError
from hubkit.check.result import Result

MARKER = "hubkit-progress.json"

_README = """# My hubkit workspace

Each folder holds one exercise: edit the starter file(s) in it, then run

    hubkit check <exercise-id>        # grade your version
    hubkit hint <exercise-id>         # the next hint
    hubkit watch <exercise-id>        # re-check every time you save
    hubkit progress                   # the curriculum's objectives, ticked by your passes
    hubkit list                       # every exercise and its status

Read `<exercise-id>/README.md` for the steps. Results are stored in results/,
progress in hubkit-progress.json (both belong to you; hubkit only adds to them).
"""


def find_workspace(start: Path | None = None) -> Path | None:
    """The workspace holding `start` (default: $HUBKIT_WORKSPACE, else the cwd), or None."""
    env = os.environ.get("HUBKIT_WORKSPACE")
    if start is None and env:
        return Path(env) if (Path(env) / MARKER).is_file() else None
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MARKER).is_file():
            return folder
    return None


class FolderNotEmpty(ExerciseError):
    """`hubkit init` was pointed at a non-empty folder that is not a workspace."""


def foreign_entries(folder: Path) -> list[str]:
    """Names in `folder` when it exists, is not empty and is not a workspace, else []."""
    folder = Path(folder)
    if not folder.is_dir() or (folder / MARKER).is_file():
        return []
    return sorted(p.name for p in folder.iterdir())


def init_workspace(folder: Path, exercises: list[Exercise], force: bool = False) -> list[Path]:
    """Create (or complete) a workspace; never overwrite a file that exists. Returns new files.

    Raises:
        FolderNotEmpty: `folder` holds files and is not a workspace, and not `force`.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ExerciseError(f"{folder} exists and is not a folder")
    foreign = foreign_entries(folder)
    if foreign and not force:
        shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
        entries = "1 entry" if len(foreign) == 1 else f"{len(foreign)} entries"
        raise FolderNotEmpty(f"{folder} is not empty ({entries}: {shown}) and "
                             "is not a hubkit workspace; choose a new folder, or pass --force "
                             "to add the exercises beside what is there")
    folder.mkdir(parents=True, exist_ok=True)
    created = []
    for ex in exercises:
        texts = {name: ex.starter_text(name) for name in ex.files}
        texts |= {name: ex.support_path(name).read_text() for name in ex.support}
        texts["README.md"] = (ex.root / "README.md").read_text()
        for name, text in texts.items():
            path = folder / ex.id / name
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
                created.append(path)
    for path, text in ((folder / "README.md", _README),
                       (folder / MARKER, json.dumps({"passed": {}, "hints": {}}, indent=2))):
        if not path.exists():
            path.write_text(text)
            created.append(path)
    return created


def learner_files(ws: Path, ex: Exercise) -> dict[str, Path]:
    """The learner's files for `ex`; ExerciseError naming a missing one."""
    files = {name: ws / ex.id / name for name in ex.files}
    for path in files.values():
        if not path.is_file():
            raise ExerciseError(f"{path} is missing; run `hubkit init {ws}` to restore the starter")
    return files


def is_untouched(ws: Path, ex: Exercise) -> bool:
    """True while every learner file still equals its starter."""
    try:
        return all((ws / ex.id / n).read_text() == ex.starter_text(n) for n in ex.files)
    except OSError:
        return False


def load_progress(ws: Path) -> dict[str, Any]:
    data = json.loads((ws / MARKER).read_text())
    data.setdefault("passed", {})
    data.setdefault("hints", {})
    return data


def save_progress(ws: Path, data: dict[str, Any]) -> None:
    tmp = ws / (MARKER + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
    os.replace(tmp, ws / MARKER)


def passed_exercises(ws: Path | None) -> set[str]:
    """Ids of exercises whose learner code passed in this workspace."""
    return set(load_progress(ws)["passed"]) if ws is not None else set()


def record(ws: Path, result: Result) -> Path:
    """Store the result JSON; a learner pass is added to the progress file."""
    out = ws / "results" / f"{result.exercise}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result.to_json(), indent=2))
    with open(out.parent / "history.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps({k: v for k, v in result.to_json().items() if k != "output"}) + "\n")
    if result.impl == "learner" and result.passed:
        history.append(ws, result)
        data = load_progress(ws)
        data["passed"][result.exercise] = {"when": result.when, "seed": result.seed,
                                           "backend": result.backend}
        save_progress(ws, data)
    return out


def last_result(ws: Path, exercise_id: str) -> dict[str, Any] | None:
    path = ws / "results" / f"{exercise_id}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def next_hint(ws: Path | None, ex: Exercise) -> tuple[int, str | None]:
    """(1-based number, text) of the next hint, remembered in the workspace;
    (len(hints) + 1, None) once every hint has been shown."""
    if not ex.hints:
        raise ExerciseError(f"{ex.id} has no hints")
    if ws is None:
        return 1, ex.hints[0]
    data = load_progress(ws)
    n = min(int(data["hints"].get(ex.id, 0)) + 1, len(ex.hints) + 1)
    data["hints"][ex.id] = n
    save_progress(ws, data)
    return n, ex.hints[n - 1] if n <= len(ex.hints) else None


def status(ws: Path | None, ex: Exercise) -> str:
    """'passed', 'failed', 'in progress', 'not started' or 'available' (no workspace)."""
    if ws is None:
        return "available"
    if ex.id in passed_exercises(ws):
        return "passed"
    if is_untouched(ws, ex):
        return "not started"
    last = last_result(ws, ex.id)
    return "failed" if last and last.get("status") != "pass" else "in progress"
