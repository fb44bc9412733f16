"""Chat models behind one small protocol: messages in; text and tool calls out; streaming.

A *message* is a plain dict in the OpenAI chat-completions format, which every
server in use speaks (vLLM, llama.cpp's server, Ollama, hosted APIs and
`hubkit serve`):

    {"role": "system" | "user" | "assistant" | "tool", "content": "..."}
    {"role": "assistant", "content": "", "tool_calls": [{"id": "c1", "type": "function",
        "function": {"name": "calculator", "arguments": "{\\"expression\\": \\"2+2\\"}"}}]}
    {"role": "tool", "tool_call_id": "c1", "content": "4"}

A model is anything with `chat(messages, tools=None, **options) -> Reply` and
`stream(messages, tools=None, **options)`, which yields text pieces (`str`) and
finally the whole `Reply`. `tools` are JSON-Schema function descriptions
(`hubkit.agents.tools.Tool.schema`). Implementations:

* `ScriptedModel` (here): replays a fixed script. For deterministic tests and
  exercises only; it is not a language model.
* `OpenAIChatModel` (here): any OpenAI-compatible server, through the `openai` package.
* `hubkit.agents.local.TransformersChatModel`: a Hugging Face causal LM in process.

Models without native function calling write tool calls as text, in the one
format `parse_tool_calls` reads (documented in `TOOL_FORMAT`):

    <tool_call>{"name": "calculator", "arguments": {"expression": "2+2"}}</tool_call>

Example:
    >>> m = ScriptedModel([ToolCall("calculator", {"expression": "6*7"}), "42"])
    >>> m.chat([{"role": "user", "content": "6*7?"}]).tool_calls[0].name
    'calculator'
    >>> m.chat([{"role": "user", "content": "6*7?"}]).content
    '42'
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

TOOL_OPEN, TOOL_CLOSE = "<tool_call>", "</tool_call>"
TOOL_FORMAT = (
    "To call a tool, answer with one line per call, and nothing else:\n"
    f'{TOOL_OPEN}{{"name": "<tool name>", "arguments": {{<arguments as JSON>}}}}{TOOL_CLOSE}\n'
    "When you know the final answer, write it as plain text without a tool call."
)
_CALL_RE = re.compile(re.escape(TOOL_OPEN) + r"(.*?)" + re.escape(TOOL_CLOSE), re.S)


def approx_tokens(text: str) -> int:
    """A tokenizer-free token count (about 4 characters a token), for models that report none."""
    return max(1, (len(text) + 3) // 4) if text else 0


@dataclass
class ToolCall:
    """One call the model asks for: the tool's name and its arguments (already parsed)."""

    name: str
    arguments: dict[str, Any]
    id: str = ""

    def to_openai(self) -> dict:
        """The `tool_calls` entry of an assistant message."""
        return {"id": self.id, "type": "function",
                "function": {"name": self.name, "arguments": json.dumps(self.arguments)}}


@dataclass
class Usage:
    """Tokens a call consumed (prompt and completion); `estimated` when nobody counted them."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = False

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class Reply:
    """What one model call returns: text, tool calls, usage and the model's raw text."""

    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    finish_reason: str = "stop"

    def to_message(self) -> dict:
        """The assistant message to append to the conversation."""
        msg: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.tool_calls:
            msg["tool_calls"] = [c.to_openai() for c in self.tool_calls]
        return msg


class ChatModel(Protocol):
    """The protocol every hubkit model follows (see the module docstring)."""

    name: str

    def chat(self, messages: list[dict], tools: list[dict] | None = None, **options) -> Reply: ...

    def stream(self, messages: list[dict], tools: list[dict] | None = None,
               **options) -> Iterator[str | Reply]: ...


# ------------------------------------------------------------------ tool calls as text

def parse_tool_calls(text: str, id_prefix: str = "call") -> tuple[str, list[ToolCall]]:
    """Split a model's text into (the text outside tool calls, the tool calls in it).

    A `<tool_call>` block whose body is not a JSON object with a string "name"
    stays in the text (the agent then sees an answer, not a broken call).

    Example:
        >>> parse_tool_calls('ok <tool_call>{"name": "f", "arguments": {"x": 1}}</tool_call>')
        ('ok', [ToolCall(name='f', arguments={'x': 1}, id='call_0')])
    """
    calls: list[ToolCall] = []
    kept: list[str] = []
    last = 0
    for m in _CALL_RE.finditer(text):
        call = _decode_call(m.group(1), f"{id_prefix}_{len(calls)}")
        if call is None:
            continue
        kept.append(text[last:m.start()])
        last = m.end()
        calls.append(call)
    kept.append(text[last:])
    return "".join(kept).strip(), calls


def _decode_call(body: str, call_id: str) -> ToolCall | None:
    try:
        obj = json.loads(body)
    except json.JSONDecodeError:
        return None
    if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
        return None
    args = obj.get("arguments", {})
    if isinstance(args, str):  # some models double-encode, as the OpenAI wire format does
        try:
            args = json.loads(args)
        except json.JSONDecodeError:
            return None
    return ToolCall(obj["name"], args if isinstance(args, dict) else {}, call_id)


def format_tool_calls(calls: list[ToolCall]) -> str:
    """The text form of `calls` (the inverse of `parse_tool_calls`)."""
    return "\n".join(TOOL_OPEN + json.dumps({"name": c.name, "arguments": c.arguments})
                     + TOOL_CLOSE for c in calls)


def visible_stream(pieces: Iterator[str]) -> Iterator[str]:
    """Pass text pieces through, holding back everything from a `<tool_call>` on.

    # subtle: a piece may end in the middle of the marker ("<tool_"), so the
    # longest tail that could start the marker is held until the next piece.
    """
    buf, hidden = "", False
    for piece in pieces:
        if hidden:
            continue
        buf += piece
        at = buf.find(TOOL_OPEN)
        if at >= 0:
            hidden, out, buf = True, buf[:at], ""
        else:
            keep = next((n for n in range(len(TOOL_OPEN) - 1, 0, -1)
                         if buf.endswith(TOOL_OPEN[:n])), 0)
            out, buf = buf[:len(buf) - keep], buf[len(buf) - keep:]
        if out:
            yield out
    if buf and not hidden:
        yield buf


def stream_by_chat(model, messages, tools=None, **options) -> Iterator[str | Reply]:
    """`stream` for a model that only answers whole: its content as one piece, then the Reply."""
    reply = model.chat(messages, tools, **options)
    if reply.content:
        yield reply.content
    yield reply


# ------------------------------------------------------------------ scripted model

Step = str | ToolCall | list | Callable[[list[dict], list[dict] | None], Any]


class ScriptExhausted(RuntimeError):
    """The scripted model was asked for more replies than its script holds."""


class ScriptedModel:
    """A fixed script of replies, for deterministic tests and exercises (not a language model).

    Args:
        script: one step per call: a string (a final answer), a `ToolCall` or a
            list of them (tool calls), or a function `(messages, tools) -> step`
            that may look at what the agent sent (e.g. to answer with a tool's result).
        name: reported in traces.

    `calls` keeps a copy of the messages every call received, so tests can
    check what the agent fed back.
    """

    def __init__(self, script: list[Step], name: str = "scripted") -> None:
        self.script, self.name = list(script), name
        self.calls: list[list[dict]] = []
        self._ids = itertools.count()

    def chat(self, messages: list[dict], tools: list[dict] | None = None, **options) -> Reply:
        if len(self.calls) >= len(self.script):
            raise ScriptExhausted(f"{self.name}: script has {len(self.script)} replies, "
                                  f"call {len(self.calls) + 1} asked for another")
        self.calls.append([dict(m) for m in messages])
        step = self.script[len(self.calls) - 1]
        while callable(step) and not isinstance(step, ToolCall):
            step = step(messages, tools)
        return self._reply(step, messages)

    def stream(self, messages, tools=None, **options) -> Iterator[str | Reply]:
        return stream_by_chat(self, messages, tools, **options)

    def _reply(self, step, messages) -> Reply:
        calls = [step] if isinstance(step, ToolCall) else step if isinstance(step, list) else []
        calls = [ToolCall(c.name, c.arguments, c.id or f"call_{next(self._ids)}") for c in calls]
        content = step if isinstance(step, str) else ""
        prompt = sum(approx_tokens(str(m.get("content") or "")) for m in messages)
        usage = Usage(prompt, approx_tokens(content + format_tool_calls(calls)), estimated=True)
        return Reply(content, calls, usage, "tool_calls" if calls else "stop")


class FunctionModel(ScriptedModel):
    """A model whose replies come from `policy(messages, tools) -> step`: a hand-written policy.

    Not a language model either: it measures the harness, tools and prompts
    around it, never a model's ability.
    """

    def __init__(self, policy: Callable[[list[dict], list[dict] | None], Any],
                 name: str = "policy") -> None:
        super().__init__([], name)
        self.policy = policy

    def chat(self, messages: list[dict], tools: list[dict] | None = None, **options) -> Reply:
        self.calls.append([dict(m) for m in messages])
        return self._reply(self.policy(messages, tools), messages)


# ------------------------------------------------------------------ OpenAI-compatible client

class OpenAIChatModel:
    """Any OpenAI-compatible chat server (vLLM, llama.cpp, Ollama, hosted APIs, hubkit serve).

    Args:
        model: the model name the server knows.
        base_url: e.g. "http://127.0.0.1:8000/v1" (None: the `openai` package's default).
        api_key: the key; local servers accept any string.
        timeout: seconds per request.
        max_tokens, temperature: defaults for every call (override per call).
        price_per_mtok: (input, output) dollars per million tokens, for cost reports.
    """

    def __init__(self, model: str, base_url: str | None = None, api_key: str = "not-needed",
                 timeout: float = 60.0, max_tokens: int = 512, temperature: float = 0.0,
                 price_per_mtok: tuple[float, float] = (0.0, 0.0)) -> None:
        try:
            import openai
        except ImportError:
            raise ImportError("OpenAIChatModel needs the openai package: "
                              "pip install 'hubkit-learn[agents]'") from None
        self.name, self.price_per_mtok = model, price_per_mtok
        self.defaults = {"max_tokens": max_tokens, "temperature": temperature}
        self.client = openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout,
                                    max_retries=0)

    def _request(self, messages, tools, options) -> dict:
        req = {"model": self.name, "messages": messages, **self.defaults, **options}
        if tools:
            req["tools"] = [{"type": "function", "function": t} for t in tools]
        return req

    def chat(self, messages: list[dict], tools: list[dict] | None = None, **options) -> Reply:
        resp = self.client.chat.completions.create(**self._request(messages, tools, options))
        choice = resp.choices[0]
        calls = [_from_openai_call(c.id, c.function.name, c.function.arguments)
                 for c in (choice.message.tool_calls or [])]
        usage = Usage(resp.usage.prompt_tokens, resp.usage.completion_tokens) if resp.usage \
            else Usage(estimated=True)
        return Reply(choice.message.content or "", calls, usage, choice.finish_reason or "stop")

    def stream(self, messages, tools=None, **options) -> Iterator[str | Reply]:
        req = self._request(messages, tools, options)
        req.update(stream=True, stream_options={"include_usage": True})
        text, parts, usage, finish = [], {}, Usage(estimated=True), "stop"
        for chunk in self.client.chat.completions.create(**req):
            if chunk.usage:
                usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
            for choice in chunk.choices:
                finish = choice.finish_reason or finish
                if choice.delta.content:
                    text.append(choice.delta.content)
                    yield choice.delta.content
                for d in choice.delta.tool_calls or []:
                    _accumulate_call(parts.setdefault(d.index, {"id": "", "name": "",
                                                                "args": ""}), d)
        calls = [_from_openai_call(p["id"], p["name"], p["args"]) for _, p in sorted(parts.items())]
        yield Reply("".join(text), calls, usage, finish)


def _accumulate_call(part: dict, delta) -> None:
    """Streaming sends a tool call in pieces: id and name once, the arguments string in parts."""
    part["id"] = delta.id or part["id"]
    if delta.function is not None:
        part["name"] += delta.function.name or ""
        part["args"] += delta.function.arguments or ""


def _from_openai_call(call_id: str, name: str, arguments: str) -> ToolCall:
    try:
        args = json.loads(arguments or "{}")
    except json.JSONDecodeError:
        args = {"__unparsed__": arguments}  # the tool's validation reports it to the model
    return ToolCall(name, args if isinstance(args, dict) else {"__unparsed__": arguments}, call_id)
