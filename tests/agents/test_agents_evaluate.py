"""The evaluation harness: fresh parameters per seed, programmatic scoring, a written report."""

from __future__ import annotations

import json

from hubkit.agents import evaluate


def test_task_parameters_change_with_the_seed(tmp_path):
    _, _, a = evaluate.build_world(1, tmp_path, 2, evaluate.SUITES)
    _, _, b = evaluate.build_world(2, tmp_path, 2, evaluate.SUITES)
    assert [t.prompt for t in a] != [t.prompt for t in b]
    assert {t.suite for t in a} == set(evaluate.SUITES)


def test_scoring_rejects_wrong_numbers_and_uncited_rag_answers(tmp_path):
    _, index, tasks = evaluate.build_world(3, tmp_path, 2, ("rag", "tool_use"))
    compute = next(t for t in tasks if t.prompt.startswith("Compute"))
    a, b, c = (int(x) for x in compute.info["expression"].replace("(", "").replace(")", "")
               .replace("*", " ").replace("-", " ").split())
    assert compute.score(str(a * b - c)) and not compute.score(str(a * b - c + 1))
    rag_task = next(t for t in tasks if t.suite == "rag")
    chunk = next(c for c in index.chunks if c.id == rag_task.info["relevant"])
    sentence = chunk.text.rstrip(".")
    assert rag_task.score(f"{sentence} [{chunk.id}].")
    assert not rag_task.score(sentence + ".")  # no citation
    assert not rag_task.score(f"{sentence} [react.md#0].")  # cites the wrong chunk


def test_report_for_the_policy_and_the_floor(tmp_path):
    assert evaluate.main(["--seeds", "2", "--per-suite", "1", "--out", str(tmp_path / "p"),
                          "--quiet", "--seed-base", "7"]) == 0
    report = json.loads((tmp_path / "p" / "report.json").read_text())
    assert {s: v["success_rate"] for s, v in report["summary"].items()} == \
        {"multi_step": 1.0, "rag": 1.0, "tool_use": 1.0}
    assert report["summary"]["rag"]["recall_at_k"] == 1.0
    assert (tmp_path / "p" / "report.md").read_text().startswith("# Agent evaluation")
    assert len(list((tmp_path / "p" / "traces").glob("*.jsonl"))) == 6
    evaluate.main(["--model", "scripted", "--seeds", "2", "--per-suite", "1", "--quiet",
                   "--out", str(tmp_path / "s")])
    floor = json.loads((tmp_path / "s" / "report.json").read_text())["summary"]
    assert all(v["success_rate"] == 0.0 for v in floor.values())


def test_confidence_interval_over_seeds():
    m, half = evaluate.mean_ci([1.0, 0.0, 1.0, 1.0])
    assert m == 0.75 and 0.7 < half < 0.9  # t(3) = 3.18, sd 0.5, sqrt(4) = 2
    assert evaluate.mean_ci([0.5]) == (0.5, 0.0)


def test_a_critic_repairs_slips_of_an_unreliable_policy(tmp_path):
    from hubkit.agents.policy import policy_model
    from hubkit.agents.toolbox import calculator_tool

    _, _, tasks = evaluate.build_world(5, tmp_path, 6, ("tool_use",))
    tasks = [t for t in tasks if t.prompt.startswith("Compute")]
    critic = policy_model(0.0, name="critic")
    results = {team: [evaluate.run_task(t, policy_model(slip=1.0, seed=0), [calculator_tool()],
                                        team, 4, 10_000, tmp_path / "t.jsonl", critic)["success"]
                      for t in tasks] for team in ("single", "critic")}
    assert not any(results["single"]) and all(results["critic"])
