"""`hubkit serve`: the OpenAI-compatible server, driven by the `openai` client on 127.0.0.1."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
openai = pytest.importorskip("openai")

from hubkit.agents.models import OpenAIChatModel, ScriptedModel, ToolCall  # noqa: E402
from hubkit.agents.react import Agent  # noqa: E402
from hubkit.agents.serve import BackgroundServer, create_app  # noqa: E402
from hubkit.agents.toolbox import calculator_tool  # noqa: E402
from hubkit.agents.trace import Trace, read_trace  # noqa: E402

CALC = calculator_tool()


def _answer_with_tool_result(messages, tools):
    return f"The result is {messages[-1]['content'].split()[-2]}."


def test_scripted_model_behind_the_server_makes_native_tool_calls():
    script = [ToolCall("calculator", {"expression": "6*7"}), _answer_with_tool_result]
    with BackgroundServer(create_app(ScriptedModel(script), "scripted")) as server:
        client = OpenAIChatModel("scripted", base_url=server.url + "/v1", timeout=30)
        result = Agent(client, [CALC]).run("What is 6*7?")
    assert result.answer == "The result is 42."
    assert result.tool_calls == [{"name": "calculator", "arguments": {"expression": "6*7"}}]


def test_streaming_returns_text_pieces_and_tool_calls():
    script = ["streamed answer", ToolCall("calculator", {"expression": "1+2"})]
    with BackgroundServer(create_app(ScriptedModel(script), "scripted")) as server:
        client = OpenAIChatModel("scripted", base_url=server.url + "/v1", timeout=30)
        *pieces, reply = client.stream([{"role": "user", "content": "hi"}])
        assert "".join(pieces) == "streamed answer" == reply.content
        assert reply.usage.completion_tokens > 0
        *_, reply = client.stream([{"role": "user", "content": "hi"}], [CALC.schema])
    assert reply.tool_calls[0].arguments == {"expression": "1+2"}


def test_server_refuses_bad_requests_with_400():
    with BackgroundServer(create_app(ScriptedModel([]), "scripted")) as server:
        client = openai.OpenAI(base_url=server.url + "/v1", api_key="x", max_retries=0)
        with pytest.raises(openai.BadRequestError, match="role"):
            client.chat.completions.create(model="scripted", messages=[{"role": "robot",
                                                                         "content": "hi"}])
        with pytest.raises(openai.BadRequestError, match="max_tokens"):
            client.chat.completions.create(model="scripted", max_tokens=-1,
                                           messages=[{"role": "user", "content": "hi"}])
        assert client.models.list().data[0].id == "scripted"


def test_agent_runs_end_to_end_against_a_local_model_server(tiny_model_dir, tmp_path):
    """The done-when item: the agent core, the openai client, hubkit serve, a local HF model."""
    from hubkit.agents.local import TransformersChatModel

    model = TransformersChatModel(tiny_model_dir)
    with BackgroundServer(create_app(model, "tiny", max_tokens_cap=8)) as server:
        client = OpenAIChatModel("tiny", base_url=server.url + "/v1", timeout=60,
                                 max_tokens=100)
        trace = Trace(tmp_path / "run.jsonl")
        result = Agent(client, [CALC], max_steps=2, trace=trace).run("What is 6*7?")
    assert result.stopped in ("answer", "max_steps")
    events = read_trace(tmp_path / "run.jsonl")
    calls = [e for e in events if e["event"] == "model"]
    assert calls and all(not e["estimated"] for e in calls)
    assert all(0 < e["completion_tokens"] <= 8 for e in calls)  # the server's cap held
    assert calls[0]["prompt_tokens"] > 100  # the tool schema and format were in the prompt
    assert events[-1]["event"] == "end" and events[-1]["tokens"] == result.tokens


@pytest.mark.slow
def test_hubkit_serve_command_serves_a_model_folder(tiny_model_dir):
    import subprocess
    import sys
    import time

    from hubkit.agents.serve import free_port

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "hubkit", "serve", str(tiny_model_dir),
                             "--port", str(port), "--max-tokens-cap", "4"])
    try:
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="x",
                               max_retries=0, timeout=60)
        deadline = time.monotonic() + 120
        while True:
            try:
                resp = client.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": "hi"}])
                break
            except openai.APIConnectionError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.5)
        assert resp.usage.completion_tokens <= 4
    finally:
        proc.terminate()
        proc.wait(timeout=30)
