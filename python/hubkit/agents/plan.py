"""Plan-and-execute with replanning on failure.

A planner model writes a numbered plan; an executor (a ReAct `Agent`) carries
out one step at a time, seeing the task and the results so far. A step fails
when the executor stops without an answer (step limit, token budget) or
answers starting with "FAILED". On a failure the planner is asked again, with
what was done and what failed, for a new plan of the remaining work; at most
`max_replans` times.

Plan format the planner is asked for (one step a line):

    1. Read the number in data.txt
    2. Multiply it by 7

Example:
    >>> from hubkit.agents.models import ScriptedModel
    >>> parse_plan("Plan:\\n1. read the file\\n2) add one\\nthanks")
    ['read the file', 'add one']
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PLANNER_SYSTEM = ("Break the task into a short numbered list of concrete steps, one per line "
                  "(1. ..., 2. ...). Write only the list.")


def parse_plan(text: str) -> list[str]:
    """The steps of a numbered list ('1.' or '1)'); other lines are ignored."""
    return [m.group(1).strip() for m in re.finditer(r"^\s*\d+[.)]\s+(.+)$", text, re.M)]


@dataclass
class StepResult:
    step: str
    answer: str | None
    ok: bool


@dataclass
class PlanResult:
    """The final answer, every step run (with failures), the plans made and the replans used."""

    answer: str | None
    steps: list[StepResult] = field(default_factory=list)
    plans: list[list[str]] = field(default_factory=list)
    replans: int = 0
    tokens: int = 0


def _ask_plan(planner, task: str, done: list[StepResult], failure: str | None) -> list[str]:
    text = f"Task: {task}"
    if done:
        text += "\nDone so far:\n" + "\n".join(f"- {s.step}: {s.answer}" for s in done if s.ok)
    if failure:
        text += f"\nThis step failed: {failure}\nPlan the remaining work differently."
    reply = planner.chat([{"role": "system", "content": PLANNER_SYSTEM},
                          {"role": "user", "content": text}])
    return parse_plan(reply.content)


def plan_and_execute(planner, executor, task: str, max_replans: int = 2) -> PlanResult:
    """Plan with `planner` (a chat model), run steps with `executor` (an Agent), replan on fail."""
    result = PlanResult(None)
    plan, failure = _ask_plan(planner, task, [], None), None
    result.plans.append(plan)
    while plan:
        step = plan.pop(0)
        done = [s for s in result.steps if s.ok]
        context = "\n".join(f"- {s.step}: {s.answer}" for s in done) or "(nothing yet)"
        run = executor.run(f"Overall task: {task}\nResults so far:\n{context}\n"
                           f"Now do only this step: {step}")
        result.tokens += run.tokens
        ok = run.answer is not None and not run.answer.strip().startswith("FAILED")
        result.steps.append(StepResult(step, run.answer, ok))
        if ok:
            result.answer = run.answer
            continue
        if result.replans >= max_replans:
            result.answer = None
            break
        failure = f"{step} -> {run.answer or run.stopped}"
        result.replans += 1
        plan = _ask_plan(planner, task, [s for s in result.steps if s.ok], failure)
        result.plans.append(list(plan))
    return result
