"""Memory (buffer with summaries, vector, episodic), plan-and-execute with replanning, teams."""

from __future__ import annotations

from hubkit.agents.memory import (
    ConversationBuffer,
    Episode,
    EpisodicMemory,
    VectorMemory,
    model_summarizer,
)
from hubkit.agents.models import ScriptedModel, ToolCall
from hubkit.agents.multi import assignments, critic_loop, manager_workers
from hubkit.agents.plan import plan_and_execute
from hubkit.agents.react import Agent
from hubkit.agents.toolbox import calculator_tool


def _long_chat(n: int) -> list[dict]:
    msgs = [{"role": "system", "content": "SYSTEM RULES"}, {"role": "user", "content": "TASK"}]
    for i in range(n):
        msgs.append({"role": "assistant", "content": "", "tool_calls": [
            {"id": f"c{i}", "type": "function", "function": {"name": "f", "arguments": "{}"}}]})
        msgs.append({"role": "tool", "tool_call_id": f"c{i}", "content": f"result {i} " * 20})
    return msgs


def test_buffer_keeps_system_prompt_and_task_and_summarizes_the_rest():
    msgs = _long_chat(20)
    seen = ConversationBuffer(budget_tokens=300)(msgs)
    assert seen[0]["content"] == "SYSTEM RULES" and seen[1]["content"] == "TASK"
    assert seen[2]["content"].startswith("Summary of the earlier conversation")
    assert "result 0" in seen[2]["content"]
    assert seen[-1] == msgs[-1] and len(seen) < len(msgs)
    assert seen[3]["role"] != "tool"  # the window never starts on an orphan tool message


def test_buffer_passes_short_conversations_unchanged():
    msgs = _long_chat(1)
    assert ConversationBuffer(budget_tokens=10_000)(msgs) == msgs


def test_buffer_can_summarize_with_a_model():
    model = ScriptedModel(["they computed things"])
    seen = ConversationBuffer(300, model_summarizer(model))(_long_chat(20))
    assert seen[2]["content"].endswith("they computed things") and len(model.calls) == 1


def test_vector_memory_recalls_by_similarity():
    mem = VectorMemory()
    mem.remember("The user's favourite colour is teal.")
    mem.remember("The meeting moved to Thursday.")
    assert mem.recall("which colour does the user like", k=1) == [
        "The user's favourite colour is teal."]


def test_episodic_memory_persists_and_advises(tmp_path):
    mem = EpisodicMemory(tmp_path / "episodes.jsonl")
    mem.record(Episode("convert miles to km", False, None, 8, "use the calculator"))
    mem.record(Episode("summarize the report", True, "ok", 2))
    again = EpisodicMemory(tmp_path / "episodes.jsonl")
    advice = again.advice("convert 5 miles to km", k=1)
    assert "FAILED" in advice and "use the calculator" in advice and "report" not in advice


def test_plan_and_execute_replans_after_a_failed_step():
    planner = ScriptedModel(["1. divide by zero\n2. report", "1. compute 6*7 instead"])
    executor = Agent(ScriptedModel(["FAILED: cannot divide by zero",
                                    ToolCall("calculator", {"expression": "6*7"}), "42"]),
                     [calculator_tool()])
    result = plan_and_execute(planner, executor, "get a number")
    assert result.replans == 1 and result.answer == "42"
    assert [s.ok for s in result.steps] == [False, True]
    assert "This step failed: divide by zero" in planner.calls[1][-1]["content"]


def test_plan_and_execute_gives_up_after_max_replans():
    planner = ScriptedModel(["1. a"] * 3)
    executor = Agent(ScriptedModel(["FAILED"] * 3), [])
    result = plan_and_execute(planner, executor, "t", max_replans=1)
    assert result.answer is None and result.replans == 1 and len(result.steps) == 2


def test_manager_assigns_workers_and_combines_results_on_the_board():
    manager = ScriptedModel(["calc: 6*7\nsearcher: nothing\nnobody: ignored",
                             lambda msgs, tools: "Final: " + msgs[-1]["content"].split("=> ")[1]])
    calc = Agent(ScriptedModel([ToolCall("calculator", {"expression": "6*7"}), "42"]),
                 [calculator_tool()])
    idle = Agent(ScriptedModel(["nothing found"]), [])
    team = manager_workers(manager, {"calc": calc, "searcher": idle}, "what is 6*7")
    assert [p.to for p in team.board.read(kind="assignment")] == ["calc", "searcher"]
    assert team.answer.startswith("Final: 42") and team.tokens > 0


def test_critic_loop_revises_until_approved():
    worker = Agent(ScriptedModel(["41", "42"]), [])
    critic = ScriptedModel(["Wrong: 6*7 is not 41.", "APPROVE"])
    team = critic_loop(worker, critic, "6*7?")
    assert team.answer == "42" and len(team.board.read(kind="critique")) == 2
    assert "A reviewer said: Wrong" in worker.model.calls[1][1]["content"]


def test_assignment_lines_parse_with_bullets():
    assert assignments("- a: x\n2. b: y\nc: z", ["a", "b"]) == [("a", "x"), ("b", "y")]
