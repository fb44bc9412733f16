"""The chat protocol: tool calls as text, streaming, the scripted and the local HF model."""

from __future__ import annotations

import doctest

import pytest

from hubkit.agents import models
from hubkit.agents.models import (
    Reply,
    ScriptedModel,
    ScriptExhausted,
    ToolCall,
    format_tool_calls,
    parse_tool_calls,
    visible_stream,
)


def test_module_doctests_pass():
    from hubkit.agents import react, toolbox, tools, trace

    for mod in (models, tools, toolbox, react, trace):
        assert doctest.testmod(mod).failed == 0, mod.__name__


def test_tool_calls_round_trip_through_text():
    calls = [ToolCall("calculator", {"expression": "1+1"}), ToolCall("search", {"query": "x"})]
    text, parsed = parse_tool_calls("thinking\n" + format_tool_calls(calls))
    assert text == "thinking"
    assert [(c.name, c.arguments) for c in parsed] == [(c.name, c.arguments) for c in calls]
    assert len({c.id for c in parsed}) == 2


def test_broken_tool_call_stays_text():
    text, calls = parse_tool_calls('<tool_call>{"name": 3}</tool_call> and <tool_call>nope'
                                   '</tool_call>')
    assert calls == [] and "nope" in text


def test_visible_stream_hides_a_tool_call_split_across_pieces():
    pieces = ["The ans", "wer <too", 'l_call>{"name": "f", "arguments": {}}', "</tool_call>"]
    assert "".join(visible_stream(iter(pieces))) == "The answer "
    assert "".join(visible_stream(iter(["a <b", " c"]))) == "a <b c"


def test_scripted_model_records_calls_and_runs_out():
    seen = []
    model = ScriptedModel([ToolCall("f", {"x": 1}),
                           lambda msgs, tools: seen.append(msgs[-1]) or "done"])
    first = model.chat([{"role": "user", "content": "go"}], tools=[{"name": "f"}])
    assert first.tool_calls[0].name == "f" and first.finish_reason == "tool_calls"
    assert model.chat([{"role": "tool", "content": "1"}]).content == "done"
    assert seen[0]["content"] == "1" and len(model.calls) == 2
    with pytest.raises(ScriptExhausted, match="2 replies"):
        model.chat([])


def test_scripted_model_streams_its_text_then_the_reply():
    pieces = list(ScriptedModel(["hello"]).stream([{"role": "user", "content": "hi"}]))
    assert pieces[0] == "hello" and isinstance(pieces[-1], Reply)


def test_local_model_generates_at_most_max_tokens(tiny_model_dir):
    from hubkit.agents.local import TransformersChatModel

    model = TransformersChatModel(tiny_model_dir, max_new_tokens=6)
    reply = model.chat([{"role": "user", "content": "hi"}])
    assert reply.usage.completion_tokens <= 6 and reply.usage.prompt_tokens > 3
    assert not reply.usage.estimated
    *pieces, last = model.stream([{"role": "user", "content": "hi"}], max_tokens=4)
    assert isinstance(last, Reply) and last.usage.completion_tokens <= 4
    assert all(isinstance(p, str) for p in pieces)


def test_local_model_parses_tool_calls_from_its_text(tiny_model_dir):
    from hubkit.agents.local import TransformersChatModel

    class Canned(TransformersChatModel):
        def _pieces(self, messages, tools, options, state):
            text = 'Let me compute. <tool_call>{"name": "calculator", "arguments": ' \
                   '{"expression": "6*7"}}</tool_call>'
            state.update(text=text, prompt_tokens=1, completion_tokens=1, finish="stop")
            yield from (text[i:i + 5] for i in range(0, len(text), 5))

    *pieces, reply = Canned(tiny_model_dir).stream([{"role": "user", "content": "6*7"}])
    assert "".join(pieces) == "Let me compute. "
    assert reply.tool_calls[0].arguments == {"expression": "6*7"}
    assert reply.finish_reason == "tool_calls"


def test_plain_template_shows_tools_and_past_calls():
    from hubkit.agents.local import render_plain

    call = ToolCall("calculator", {"expression": "6*7"}, "c1")
    msgs = [{"role": "user", "content": "6*7?"}, Reply("", [call]).to_message(),
            {"role": "tool", "tool_call_id": "c1", "content": "42"}]
    text = render_plain(msgs, [{"name": "calculator", "parameters": {}}])
    assert text.startswith("<|system|>\nTools (JSON Schema)") and "<tool_call>" in text
    assert text.endswith("<|tool|>\n42\n<|assistant|>\n")
