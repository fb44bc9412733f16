"""Tests for hubkit.curriculum: the packaged outline and its loader."""

import textwrap
from pathlib import Path

import pytest

from hubkit.curriculum import (
    Objective,
    coverage,
    find_section,
    iter_objectives,
    link_status,
    load_outline,
    objectives_for_exercise,
    ticked,
)

# The outline's section ids, in order (curriculum-outline.md).
OUTLINE_SECTIONS = {
    "1": ["1.1", "1.2", "1.3"],
    "2": ["2.1", "2.2"],
    "3": ["3.1", "3.2", "3.3", "3.4"],
    "4": ["4.1", "4.2", "4.3"],
    "5": ["5.1", "5.2", "5.3", "5.4"],
    "6": ["6.1", "6.2", "6.3", "6.4"],
    "7": ["7.1", "7.2", "7.3"],
    "8": ["8.1", "8.2", "8.3"],
}
OUTLINE_WEEKS = {
    "1": (1, 3),
    "2": (4, 4),
    "3": (5, 8),
    "4": (9, 12),
    "5": (13, 18),
    "6": (19, 22),
    "7": (23, 25),
    "8": (26, 28),
}

PLANNED_MODULES = {
    "hubkit.basics.reference",
    "hubkit.activations.reference",
    "hubkit.cnn.reference",
    "hubkit.cnn.layers",
    "hubkit.cnn.train",
    "hubkit.attention.reference",
    "hubkit.attention.layers",
    "hubkit.attention.train",
    "hubkit.peft.reference",
    "hubkit.peft.hf",
    "hubkit.peft.train",
    "hubkit.rl.mdp",
    "hubkit.rl.qlearning",
    "hubkit.rl.replay",
    "hubkit.rl.dqn",
    "hubkit.envs.reference",
    "hubkit.envs.vector",
    "hubkit.envs.randomization",
    "hubkit.envs.controllers",
}
PLANNED_EXERCISES = {
    "matmul_python",
    "gradient_descent",
    "numerical_gradient",
    "scalar_autograd",
    "optimizers",
    "dropout_batchnorm",
    "bias_gelu_cpp",
    "conv2d_numpy",
    "conv2d_cpp",
    "conv2d_cuda",
    "attention_python",
    "attention_triton_fwd",
    "attention_triton_bwd",
    "lora_python",
    "lora_triton",
    "value_iteration",
    "q_learning",
    "prioritized_replay_cpp",
    "vector_rollout_cpp",
}

VALID_TOML = """
    [[part]]
    id = "1"
    title = "Part"
    weeks = [1, 2]

    [[part.section]]
    id = "1.1"
    title = "Section"
    concepts = ["a concept"]
    practice = []

    [[part.section.objective]]
    id = "1.1.a"
    text = "first"
    modules = ["json", "hubkit_no_such.mod"]
    exercises = ["gradient_descent"]

    [[part.section.objective]]
    id = "{second_id}"
    text = "second"
"""


def write_outline(tmp_path, second_id):
    path = tmp_path / "outline.toml"
    path.write_text(textwrap.dedent(VALID_TOML).format(second_id=second_id))
    return path


def test_all_eight_parts_with_outline_section_ids_in_order():
    parts = load_outline()
    assert [p.id for p in parts] == list(OUTLINE_SECTIONS)
    for part in parts:
        assert [s.id for s in part.sections] == OUTLINE_SECTIONS[part.id]


def test_part_weeks_match_outline():
    assert {p.id: p.weeks for p in load_outline()} == OUTLINE_WEEKS


def test_every_section_has_title_concepts_practice_and_objectives():
    for part in load_outline():
        for section in part.sections:
            assert section.title, section.id
            assert section.concepts, section.id
            assert section.practice, section.id
            assert section.objectives, section.id


def test_objective_ids_are_unique():
    ids = [o.id for o in iter_objectives()]
    assert len(ids) == len(set(ids))


def test_objective_ids_are_prefixed_by_their_section_id():
    for part in load_outline():
        for section in part.sections:
            for objective in section.objectives:
                assert objective.id.startswith(section.id + "."), objective.id


def test_every_link_resolves_to_a_real_module_and_exercise():
    exercises_dir = Path(__file__).resolve().parents[2] / "exercises"
    status = link_status(exercises_dir)
    missing = [name for kind in ("modules", "exercises")
               for name, ok in status[kind].items() if not ok]
    assert not missing, f"outline links to things that do not exist: {missing}"


def test_every_shipped_exercise_ticks_some_objective():
    exercises_dir = Path(__file__).resolve().parents[2] / "exercises"
    for toml in exercises_dir.glob("*/exercise.toml"):
        assert objectives_for_exercise(toml.parent.name), toml.parent.name


def test_every_planned_exercise_ticks_some_objective():
    for exercise_id in PLANNED_EXERCISES:
        assert objectives_for_exercise(exercise_id), exercise_id


def test_find_section_returns_section_and_rejects_unknown_id():
    assert find_section("4.1").title == "Convolutional Neural Networks"
    with pytest.raises(KeyError, match="9.9"):
        find_section("9.9")


def test_coverage_counts_add_up():
    counts = coverage()
    assert counts["total"] == len(list(iter_objectives()))
    assert counts["linked"] + counts["planned"] == counts["total"]
    assert counts["linked"] > 0 and counts["planned"] > 0


def test_objective_with_no_links_is_planned():
    assert Objective("1.1.z", "x").planned
    assert not Objective("1.1.z", "x", modules=("hubkit.cnn.reference",)).planned
    assert not Objective("1.1.z", "x", exercises=("conv2d_numpy",)).planned


def test_objective_without_exercises_is_never_ticked():
    module_only = Objective("4.1.c", "x", modules=("hubkit.cnn.layers",))
    assert not ticked(module_only, set())
    assert not ticked(module_only, PLANNED_EXERCISES)


def test_objective_with_partial_passes_is_not_ticked():
    both = Objective("4.3.e", "x", exercises=("attention_triton_fwd", "attention_triton_bwd"))
    assert not ticked(both, set())
    assert not ticked(both, {"attention_triton_fwd"})
    assert ticked(both, {"attention_triton_fwd", "attention_triton_bwd", "q_learning"})


def test_load_outline_reads_an_explicit_path(tmp_path):
    parts = load_outline(write_outline(tmp_path, "1.1.b"))
    assert [o.id for o in iter_objectives(parts)] == ["1.1.a", "1.1.b"]
    assert coverage(parts) == {"total": 2, "linked": 1, "planned": 1}


def test_malformed_outline_with_duplicate_id_names_it(tmp_path):
    with pytest.raises(ValueError, match="1.1.a"):
        load_outline(write_outline(tmp_path, "1.1.a"))


def test_malformed_outline_with_wrong_prefix_names_it(tmp_path):
    with pytest.raises(ValueError, match="2.1.b"):
        load_outline(write_outline(tmp_path, "2.1.b"))


def test_packaged_outline_is_cached_but_lists_are_fresh():
    first, second = load_outline(), load_outline()
    assert first == second and first is not second
    assert all(a is b for a, b in zip(first, second, strict=True))


def test_link_status_reports_missing_modules_and_exercises(tmp_path):
    (tmp_path / "gradient_descent").mkdir()
    (tmp_path / "gradient_descent" / "exercise.toml").write_text("")
    parts = load_outline(write_outline(tmp_path, "1.1.b"))
    report = link_status(exercises_dir=tmp_path, parts=parts)
    assert report["modules"] == {"hubkit_no_such.mod": False, "json": True}
    assert report["exercises"] == {"gradient_descent": True}
    assert "exercises" not in link_status(parts=parts)


def test_outline_entry_missing_a_key_raises_value_error(tmp_path):
    path = tmp_path / "outline.toml"
    path.write_text('[[part]]\nid = "1"\nweeks = [1, 1]\n')
    with pytest.raises(ValueError, match="title"):
        load_outline(path)
