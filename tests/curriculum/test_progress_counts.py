"""What `hubkit progress` counts: only objectives an existing exercise can tick."""

import textwrap

from hubkit.curriculum import Objective, load_outline, progress_counts, tickable

OUTLINE = """
[[part]]
id = "1"
title = "P"
weeks = [1, 2]

[[part.section]]
id = "1.1"
title = "S"

[[part.section.objective]]
id = "1.1.a"
text = "has a shipped exercise"
exercises = ["ex_a"]

[[part.section.objective]]
id = "1.1.b"
text = "taught by a module, no exercise"
modules = ["hubkit.curriculum"]

[[part.section.objective]]
id = "1.1.c"
text = "names an exercise that does not exist yet"
exercises = ["ex_a", "ex_future"]

[[part.section.objective]]
id = "1.1.d"
text = "no link at all"
"""


def _parts(tmp_path):
    path = tmp_path / "outline.toml"
    path.write_text(textwrap.dedent(OUTLINE))
    return load_outline(path)


def test_only_objectives_whose_exercises_all_exist_are_tickable():
    assert tickable(Objective("x", "t", exercises=("a",)), {"a", "b"})
    assert not tickable(Objective("x", "t", exercises=("a", "c")), {"a", "b"})
    assert not tickable(Objective("x", "t", modules=("hubkit.cnn",)), {"a"})


def test_counts_planned_apart_and_ticks_only_tickable(tmp_path):
    counts = progress_counts({"ex_a"}, ["ex_a"], _parts(tmp_path))
    # 1.1.c lists ex_a (passed) but also ex_future: planned, never counted as ticked
    assert counts == {"ticked": 1, "tickable": 1, "planned": 3}


def test_nothing_passed_ticks_nothing(tmp_path):
    assert progress_counts(set(), ["ex_a"], _parts(tmp_path))["ticked"] == 0


def test_packaged_outline_counts_add_up():
    counts = progress_counts(set(), [])
    total = sum(len(s.objectives) for p in load_outline() for s in p.sections)
    assert counts["tickable"] == 0 and counts["planned"] == total
