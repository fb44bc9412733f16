"""A ReAct agent loop, and a context window that never forgets the system prompt.

The model is a function `chat(messages) -> reply`:
    messages: [{"role": "system" | "user" | "assistant" | "tool", "content": str, ...}]
    reply:    {"content": str, "tool_calls": [{"id": str, "name": str, "arguments": dict}]}
A reply without tool calls is the final answer. Tools are `{name: function(**arguments) -> str}`.
"""

SYSTEM = "Solve the task. Call a tool when you need one; answer in plain text when done."


def trim_history(messages: list, max_messages: int) -> list:
    """The messages the model sees: the system prompt (messages[0]) and the newest ones,
    at most `max_messages` in all (all of them when they fit)."""
    # BEGIN SOLUTION
    # starter> # Step 1: keep messages[0] always, then the last max_messages - 1 messages.
    # starter> raise NotImplementedError("not implemented yet")
    if len(messages) <= max_messages:
        return list(messages)
    return [messages[0]] + messages[len(messages) - (max_messages - 1):]
    # END SOLUTION


def run_tool(tools: dict, call: dict) -> str:
    """The text a tool call returns: its result, or the error it raised, or 'unknown tool'."""
    # BEGIN SOLUTION
    # starter> # Step 2: look the tool up, call it with **arguments, turn errors into text.
    # starter> raise NotImplementedError("not implemented yet")
    fn = tools.get(call["name"])
    if fn is None:
        return f"error: unknown tool {call['name']}"
    try:
        return str(fn(**call["arguments"]))
    except Exception as err:  # a failing tool is an observation, not a crash
        return f"error: {err}"
    # END SOLUTION


def run_agent(chat, tools: dict, task: str, max_steps: int, max_messages: int = 50) -> dict:
    """Run the loop; returns {"answer": str or None, "steps": model calls made}.

    Each step: the model sees trim_history(messages, max_messages); its reply is
    appended; no tool calls -> done; else every call's result is appended as
    {"role": "tool", "tool_call_id": call["id"], "content": result}.
    After max_steps model calls without an answer, the answer is None.
    """
    # BEGIN SOLUTION
    # starter> # Step 3: the loop described above.
    # starter> raise NotImplementedError("not implemented yet")
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": task}]
    for step in range(max_steps):
        reply = chat(trim_history(messages, max_messages))
        calls = reply.get("tool_calls") or []
        messages.append({"role": "assistant", "content": reply.get("content", ""),
                         "tool_calls": calls})
        if not calls:
            return {"answer": reply.get("content", ""), "steps": step + 1}
        for call in calls:
            messages.append({"role": "tool", "tool_call_id": call["id"],
                             "content": run_tool(tools, call)})
    return {"answer": None, "steps": max_steps}
    # END SOLUTION
