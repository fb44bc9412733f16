"""`hubkit serve MODEL_DIR`: an OpenAI-compatible chat-completions server over a local causal LM.

Endpoints (the subset of the OpenAI API that agents use):

* `GET /v1/models`: the one model served;
* `POST /v1/chat/completions`: `messages`, `tools`, `max_tokens`, `temperature`,
  `stream` (server-sent events, ending with `data: [DONE]`) and
  `stream_options.include_usage`.

Tool calls: the model writes them as text in hubkit's format
(`<tool_call>{"name": ..., "arguments": {...}}</tool_call>`, described to it in
the prompt, see hubkit.agents.local); the server parses them and returns
them as `tool_calls` with `finish_reason: "tool_calls"`, so any OpenAI client
sees native function calling.

Requests are bounded: `max_tokens` is capped (`--max-tokens-cap`), as are the
number of messages and the request size; generation runs one request at a time.
It is a teaching server, with no authentication: it listens on 127.0.0.1 by default.

The app serves any hubkit chat model (`create_app(model)`), so the same server
can front a ScriptedModel in tests. `BackgroundServer` runs it in a thread.
"""

# subtle: no `from __future__ import annotations` here: FastAPI reads the `Request`
# annotation of the route at definition time, and Request is imported inside create_app.

import json
import threading
import time
import uuid
from collections.abc import Iterator

MAX_MESSAGES, MAX_BODY_BYTES = 256, 2_000_000
ROLES = {"system", "user", "assistant", "tool"}


class BadRequest(ValueError):
    """A request the server refuses (HTTP 400); the message names the field."""


def check_request(body: object, cap: int) -> dict:
    """The validated request: messages, tools, max_tokens (capped), temperature, stream."""
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("`messages` must be a non-empty list")
    if len(messages) > MAX_MESSAGES:
        raise BadRequest(f"`messages` holds {len(messages)} messages (limit {MAX_MESSAGES})")
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ROLES:
            raise BadRequest(f"`messages[{i}]` needs a role among {sorted(ROLES)}")
    tools = [t.get("function", t) for t in body.get("tools") or [] if isinstance(t, dict)]
    max_tokens = body.get("max_tokens") or body.get("max_completion_tokens") or cap
    if not isinstance(max_tokens, int) or max_tokens < 1:
        raise BadRequest("`max_tokens` must be a positive integer")
    temperature = body.get("temperature", 0.0)
    if not isinstance(temperature, (int, float)) or not 0 <= temperature <= 2:
        raise BadRequest("`temperature` must be a number in [0, 2]")
    return {"messages": messages, "tools": tools or None, "max_tokens": min(max_tokens, cap),
            "temperature": float(temperature), "stream": bool(body.get("stream")),
            "usage_in_stream": bool((body.get("stream_options") or {}).get("include_usage"))}


def _calls_json(reply) -> list[dict]:
    return [{"id": c.id or f"call_{i}", "type": "function",
             "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
            for i, c in enumerate(reply.tool_calls)]


def _usage(reply) -> dict:
    u = reply.usage
    return {"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
            "total_tokens": u.total}


def completion_json(reply, model_name: str) -> dict:
    """A `chat.completion` object for one Reply."""
    message = {"role": "assistant", "content": reply.content or None}
    if reply.tool_calls:
        message["tool_calls"] = _calls_json(reply)
    return {"id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "object": "chat.completion",
            "created": int(time.time()), "model": model_name,
            "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason}],
            "usage": _usage(reply)}


def sse_chunks(pieces: Iterator, model_name: str, usage_in_stream: bool) -> Iterator[str]:
    """Server-sent events for a model's stream: text deltas, tool calls, finish, usage, [DONE]."""
    from hubkit.agents.models import Reply

    head = {"id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "object": "chat.completion.chunk",
            "created": int(time.time()), "model": model_name}

    def event(delta: dict, finish=None, **extra) -> str:
        choices = [{"index": 0, "delta": delta, "finish_reason": finish}] if delta is not None \
            else []
        return f"data: {json.dumps({**head, 'choices': choices, **extra})}\n\n"

    yield event({"role": "assistant", "content": ""})
    for piece in pieces:
        if not isinstance(piece, Reply):
            yield event({"content": piece})
            continue
        if piece.tool_calls:
            yield event({"tool_calls": [{"index": i, **c}
                                        for i, c in enumerate(_calls_json(piece))]})
        yield event({}, piece.finish_reason)
        if usage_in_stream:
            yield event(None, usage=_usage(piece))
    yield "data: [DONE]\n\n"


def create_app(model, model_name: str | None = None, max_tokens_cap: int = 512):
    """A FastAPI app serving `model` (any hubkit chat model) at /v1/chat/completions."""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, StreamingResponse

    name = model_name or getattr(model, "name", "hubkit")
    app = FastAPI(title="hubkit serve")

    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": {"message": message, "type": "invalid_request_error"}},
                            status_code=status)

    @app.get("/v1/models")
    def models() -> dict:
        return {"object": "list", "data": [{"id": name, "object": "model", "owned_by": "hubkit"}]}

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        raw = await request.body()
        if len(raw) > MAX_BODY_BYTES:
            return error(413, f"request larger than {MAX_BODY_BYTES} bytes")
        try:
            req = check_request(json.loads(raw or b"null"), max_tokens_cap)
        except (BadRequest, json.JSONDecodeError) as err:
            return error(400, str(err))
        opts = {"max_tokens": req["max_tokens"], "temperature": req["temperature"]}
        if req["stream"]:
            pieces = model.stream(req["messages"], req["tools"], **opts)
            return StreamingResponse(sse_chunks(pieces, name, req["usage_in_stream"]),
                                     media_type="text/event-stream")
        from starlette.concurrency import run_in_threadpool

        reply = await run_in_threadpool(model.chat, req["messages"], req["tools"], **opts)
        return completion_json(reply, name)

    return app


class BackgroundServer:
    """Run an app with uvicorn in a thread (tests, evaluations); a context manager.

    Example (not run here: it starts a server):
        with BackgroundServer(create_app(model)) as server:
            client = OpenAIChatModel("m", base_url=server.url + "/v1")
    """

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0) -> None:
        import uvicorn

        self.host, self.port = host, port or free_port(host)
        config = uvicorn.Config(app, host=host, port=self.port, log_level="warning",
                                lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> "BackgroundServer":
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start on {self.url}")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on `host` now (the OS picks it)."""
    import socket

    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def serve(model_dir: str, host: str = "127.0.0.1", port: int = 8000, max_tokens_cap: int = 512,
          temperature: float = 0.0, device: str = "cpu") -> None:
    """Load MODEL_DIR and serve it until interrupted (the `hubkit serve` command)."""
    import uvicorn

    from hubkit.agents.local import TransformersChatModel

    model = TransformersChatModel(model_dir, max_new_tokens=max_tokens_cap,
                                  temperature=temperature, device=device)
    print(f"serving {model.name} at http://{host}:{port}/v1 (Ctrl-C stops)", flush=True)
    uvicorn.run(create_app(model, max_tokens_cap=max_tokens_cap), host=host, port=port,
                log_level="warning")
