"""Chain-of-thought experiments: answer extraction, styles, the report."""

from __future__ import annotations

import json
import re

from hubkit.agents import cot
from hubkit.agents.models import FunctionModel


def test_extract_prefers_the_answer_line():
    assert cot.extract("3 * 4 = 12, 12 - 5 = 7\nAnswer: 7") == 7
    assert cot.extract("it is 41 or 42") == 42
    assert cot.extract("no idea") is None


def _reasons_only_when_asked(messages, tools):
    q = messages[-1]["content"].split("Q: ")[-1]
    a, b, c = (int(x) for x in re.findall(r"\d+", q)[:3])
    if "step by step" in q or "A:" in messages[-1]["content"]:
        return f"{a} * {b} = {a * b}; minus {c} is {a * b - c}.\nAnswer: {a * b - c}"
    return str(a * b)  # answers too fast: forgets the second step


def test_styles_measure_what_the_model_does():
    items = cot.problems(__import__("random").Random(0), 5)
    model = FunctionModel(_reasons_only_when_asked)
    assert cot.run_style(model, "direct", items)["accuracy"] == 0.0
    assert cot.run_style(model, "zero_shot_cot", items)["accuracy"] == 1.0
    assert cot.run_style(model, "few_shot_cot", items)["accuracy"] == 1.0


def test_cot_command_writes_a_report(tmp_path):
    assert cot.main(["--model", "scripted", "--seeds", "2", "--per-seed", "2", "--quiet",
                     "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert set(report["styles"]) == set(cot.STYLES)
    assert all(s["accuracy"] == 0.0 for s in report["styles"].values())
