"""Every objective of Parts 1-3 is taught by a module and ticked by a shipped exercise."""

import importlib

from hubkit.check import all_exercises
from hubkit.curriculum import iter_objectives


def _parts_1_to_3():
    return [o for o in iter_objectives() if o.id.split(".")[0] in ("1", "2", "3")]


def test_no_part_1_to_3_objective_is_unlinked():
    unlinked = [o.id for o in _parts_1_to_3() if not o.modules or not o.exercises]
    assert unlinked == []
    assert len(_parts_1_to_3()) >= 34


def test_part_1_to_3_links_resolve_to_modules_and_exercises():
    shipped = {ex.id for ex in all_exercises()}
    for o in _parts_1_to_3():
        for name in o.modules:
            importlib.import_module(name)
        assert set(o.exercises) <= shipped, o.id
