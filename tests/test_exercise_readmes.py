"""Every exercise README says what it teaches, which objective a pass ticks, and `--no-time`."""

from __future__ import annotations

import re

import pytest

from hubkit import curriculum
from hubkit.check.exercises import all_exercises

EXERCISES = all_exercises()


def _ticked_by(exercise_id: str) -> list[str]:
    return [o.id for o in curriculum.objectives_for_exercise(exercise_id)]


@pytest.mark.parametrize("ex", EXERCISES, ids=lambda e: e.id)
def test_exercise_readme_says_what_it_teaches_and_which_objective_it_ticks(ex):
    text = (ex.root / "README.md").read_text()
    assert "## What this teaches" in text and "Why it matters:" in text
    ticked = _ticked_by(ex.id)
    assert ticked, f"{ex.id} ticks no curriculum objective"
    for objective in ticked:
        assert objective in text, f"{ex.id}'s README does not name objective {objective}"
    assert f"hubkit check {ex.id} --no-time" in text


@pytest.mark.parametrize("ex", EXERCISES, ids=lambda e: e.id)
def test_exercise_readme_points_only_at_paths_a_workspace_has(ex):
    text = (ex.root / "README.md").read_text()
    # `exercises/...` does not exist in a workspace; csrc/ only with "in the hubkit repository"
    assert not re.search(r"`exercises/", text)
    for m in re.finditer(r"`csrc/[^`]*`", text):
        assert "hubkit repository" in text[m.end():m.end() + 80], m.group(0)


@pytest.mark.parametrize("ex", EXERCISES, ids=lambda e: e.id)
def test_exercise_hints_point_only_at_paths_a_workspace_has(ex):
    for hint in ex.hints:
        assert "exercises/" not in hint, hint
        for m in re.finditer(r"csrc/\S*", hint):
            assert "hubkit repository" in hint[m.end():m.end() + 40], hint
