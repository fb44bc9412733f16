"""Capstone: the research assistant over PDFs the test writes; the code assistant in the sandbox."""

from __future__ import annotations

import json

import pytest

from hubkit.agents import capstone
from hubkit.agents.models import ScriptedModel, ToolCall
from hubkit.agents.policy import policy_model

pytest.importorskip("pypdf")


def test_written_pdfs_read_back_through_pypdf(tmp_path):
    from pypdf import PdfReader

    capstone.write_pdf(tmp_path / "a.pdf", ["Page (one) \\ text.", "Page two."])
    pages = [p.extract_text() for p in PdfReader(tmp_path / "a.pdf").pages]
    assert "Page (one) \\ text." in pages[0] and "Page two." in pages[1]


def test_research_assistant_answers_the_question_set_with_citations(tmp_path):
    questions = capstone.sample_papers(tmp_path / "papers", seed=3)
    assistant = capstone.ResearchAssistant(policy_model(), tmp_path / "papers")
    report = capstone.evaluate_questions(assistant, questions)
    assert report["accuracy"] == 1.0 and report["faithfulness"] == 1.0
    assert report["cites_source"] == 1.0


def test_research_assistant_flags_an_answer_citing_unretrieved_passages(tmp_path):
    capstone.sample_papers(tmp_path / "papers", seed=1)
    model = ScriptedModel([ToolCall("list_papers", {}),
                           "It reached 99.9 percent accuracy [paper1.pdf#0]."])
    out = capstone.ResearchAssistant(model, tmp_path / "papers").ask("accuracy?")
    assert out["faithfulness"]["score"] == 0.0  # nothing was searched: the citation is unfounded
    assert out["faithfulness"]["claims"][0]["unknown"] == ["paper1.pdf#0"]


def test_summary_cites_the_papers_opening(tmp_path):
    capstone.sample_papers(tmp_path / "papers", seed=4)
    out = capstone.ResearchAssistant(policy_model(), tmp_path / "papers").summarize("paper1.pdf")
    assert "[paper1.pdf#0]" in out["summary"] and out["faithfulness"]["score"] == 1.0


def test_read_paper_and_list_papers(tmp_path):
    capstone.sample_papers(tmp_path / "papers", seed=2)
    assistant = capstone.ResearchAssistant(ScriptedModel([]), tmp_path / "papers")
    assert assistant.list_papers().splitlines() == ["paper1.pdf", "paper2.pdf", "paper3.pdf"]
    assert assistant.read_paper("paper2.pdf").startswith("[paper2.pdf#0] A study of")
    with pytest.raises(FileNotFoundError):
        assistant.read_paper("nope.pdf")


def test_capstone_command_runs_the_demo(tmp_path, capsys):
    assert capstone.main(["--demo", "--out", str(tmp_path / "run"), "--quiet"]) == 0
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["accuracy"] == 1.0 and "accuracy 1.00" in capsys.readouterr().out


TESTS = "from solution import fib\nassert [fib(n) for n in range(6)] == [0, 1, 1, 2, 3, 5]\n"
BUGGY = "```python\ndef fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 3)\n```"
FIXED = "```python\ndef fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n```"


def test_code_assistant_fixes_code_until_the_tests_pass(tmp_path):
    from hubkit.agents.sandbox import PythonSandbox

    model = ScriptedModel([BUGGY, FIXED])
    out = capstone.code_assistant(model, PythonSandbox(tmp_path, time_s=5), "Write fib(n).",
                                  TESTS)
    assert out["passed"] and out["rounds"] == 2
    assert "AssertionError" in model.calls[1][-1]["content"]  # the failure went back


def test_code_assistant_gives_up_after_max_rounds(tmp_path):
    from hubkit.agents.sandbox import PythonSandbox

    out = capstone.code_assistant(ScriptedModel([BUGGY] * 2), PythonSandbox(tmp_path, time_s=5),
                                  "Write fib(n).", TESTS, max_rounds=2)
    assert not out["passed"] and "AssertionError" in out["output"]
