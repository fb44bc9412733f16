"""Checker spec for react_loop, graded against scripted models (deterministic given the seed).

1. trim_history keeps the system prompt and the newest messages.
2. run_tool: results, errors as text, unknown tools.
3. run_agent with a scripted model: the tool result must come back in a `tool`
   message with the call's id (the model's answer depends on it); the step
   limit must hold against a model that never stops calling tools; with a
   small window the system prompt must still be the first message every call.
"""

from __future__ import annotations

import random

import torch

from hubkit.check import CheckContext, CustomSpec


def _rng(ctx: CheckContext) -> random.Random:
    return random.Random(int(torch.randint(0, 2**31 - 1, (), generator=ctx.gen)))


def _check_trim(learner, ctx: CheckContext, rng: random.Random) -> None:
    n, keep = rng.randint(9, 20), rng.randint(3, 7)
    msgs = [{"role": "system", "content": "rules"}] + \
        [{"role": "user", "content": f"m{i}"} for i in range(n)]
    with ctx.guard():
        got = learner.trim_history(msgs, keep)
        short = learner.trim_history(msgs[:keep], keep)
    if not got or got[0] != msgs[0]:
        ctx.fail("trim_history forgot the system prompt: messages[0] must always stay")
    if got != [msgs[0]] + msgs[-(keep - 1):]:
        ctx.fail(f"trim_history({n + 1} messages, {keep}) should keep messages[0] and the "
                 f"newest {keep - 1}; got {[m['content'] for m in got]}")
    if short != msgs[:keep]:
        ctx.fail("trim_history changed a history that already fits")


def _check_tools(learner, ctx: CheckContext, rng: random.Random) -> None:
    a, b = rng.randint(1, 999), rng.randint(1, 999)

    def add(a: int, b: int) -> str:
        return str(a + b)

    def broken() -> str:
        raise ValueError("disk on fire")

    tools = {"add": add, "broken": broken}
    with ctx.guard():
        ok = learner.run_tool(tools, {"id": "1", "name": "add", "arguments": {"a": a, "b": b}})
        bad = learner.run_tool(tools, {"id": "2", "name": "broken", "arguments": {}})
        unknown = learner.run_tool(tools, {"id": "3", "name": "rm", "arguments": {}})
    if ok != str(a + b):
        ctx.fail(f"run_tool(add, a={a}, b={b}) returned {ok!r}, expected {str(a + b)!r}")
    if "disk on fire" not in str(bad):
        ctx.fail(f"run_tool: a tool that raises must return its error as text, got {bad!r}")
    if "unknown" not in str(unknown):
        ctx.fail(f"run_tool: an unknown tool must return 'unknown tool ...', got {unknown!r}")


def _check_feedback(learner, ctx: CheckContext, rng: random.Random) -> None:
    a, b, call_id = rng.randint(100, 999), rng.randint(100, 999), f"call_{rng.randint(0, 9999)}"
    seen: list = []

    def chat(messages):
        seen.append(messages)
        if len(seen) == 1:
            return {"content": "I will add.", "tool_calls": [
                {"id": call_id, "name": "add", "arguments": {"a": a, "b": b}}]}
        tool_msgs = [m for m in messages if m.get("role") == "tool"]
        if not tool_msgs:
            ctx.fail("run_agent never fed the tool result back: the second model call has no "
                     "`tool` message")
        if tool_msgs[-1].get("tool_call_id") != call_id or str(a + b) not in \
                str(tool_msgs[-1].get("content")):
            ctx.fail(f"the tool message must carry tool_call_id {call_id!r} and the result "
                     f"{a + b}; got {tool_msgs[-1]}")
        return {"content": f"The sum is {a + b}.", "tool_calls": []}

    with ctx.guard():
        out = learner.run_agent(chat, {"add": lambda a, b: str(a + b)}, f"{a}+{b}?", 5)
    if out != {"answer": f"The sum is {a + b}.", "steps": 2}:
        ctx.fail(f"run_agent returned {out}, expected the final answer after 2 steps")


def _check_step_limit(learner, ctx: CheckContext, rng: random.Random) -> None:
    limit, calls = rng.randint(2, 6), []

    def chat(messages):
        calls.append(1)
        if len(calls) > limit + 3:  # end a loop that ignores the limit
            return {"content": "giving up", "tool_calls": []}
        return {"content": "", "tool_calls": [{"id": f"c{len(calls)}", "name": "ping",
                                               "arguments": {}}]}

    with ctx.guard():
        out = learner.run_agent(chat, {"ping": lambda: "pong"}, "loop forever", limit)
    if len(calls) != limit or out.get("answer") is not None or out.get("steps") != limit:
        ctx.fail(f"run_agent ran past the step limit: max_steps={limit}, the model was called "
                 f"{len(calls)} times, returned {out}")


def _check_window(learner, ctx: CheckContext, rng: random.Random) -> None:
    window, steps = rng.randint(3, 5), 8
    count = []

    def chat(messages):
        count.append(1)
        if messages[0].get("role") != "system":
            ctx.fail(f"call {len(count)}: the model did not see the system prompt first; the "
                     "memory forgot it")
        if len(messages) > window:
            ctx.fail(f"call {len(count)}: {len(messages)} messages sent, max_messages={window}")
        if len(count) == steps:
            return {"content": "done", "tool_calls": []}
        return {"content": "", "tool_calls": [{"id": f"c{len(count)}", "name": "ping",
                                               "arguments": {}}]}

    with ctx.guard():
        learner.run_agent(chat, {"ping": lambda: "pong"}, "long task", steps, window)


def check(learner, ctx: CheckContext) -> None:
    rng = _rng(ctx)
    _check_trim(learner, ctx, rng)
    _check_tools(learner, ctx, rng)
    _check_feedback(learner, ctx, rng)
    _check_step_limit(learner, ctx, rng)
    _check_window(learner, ctx, rng)
    ctx.note("fed back, step limit and window hold against the scripted models")


SPEC = CustomSpec(check=check)
