"""Run traces: one JSONL file per agent run, and the viewer behind `hubkit agents trace`.

Format: one JSON object per line, UTF-8, in the order things happened.

    {"event": "start", "time": 0.0, "task": "...", "model": "scripted", "tools": ["calculator"]}
    {"event": "model", "time": 0.01, "step": 0, "latency_s": 0.01, "content": "...",
     "tool_calls": [{"name": ..., "arguments": {...}, "id": ...}],
     "prompt_tokens": 40, "completion_tokens": 12, "estimated": true}
    {"event": "tool", "time": 0.02, "step": 0, "name": "calculator", "arguments": {...},
     "status": "ok" | "error" | "refused", "output": "...", "latency_s": 0.001}
    {"event": "end", "time": 0.05, "stopped": "answer", "answer": "...", "steps": 2,
     "tokens": 90, "cost_usd": 0.0}

`messages` (the whole conversation) is written with the "end" event, so a trace
replays a run completely.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import IO


class Trace:
    """Append events to a JSONL file (or keep them in memory when `path` is None)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.events: list[dict] = []
        self._t0 = time.perf_counter()
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text("")

    def log(self, event: str, **fields) -> dict:
        record = {"event": event, "time": round(time.perf_counter() - self._t0, 4), **fields}
        self.events.append(record)
        if self.path is not None:
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(record, default=str) + "\n")
        return record


def read_trace(path: str | Path) -> list[dict]:
    """The events of a trace file."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _short(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[:width - 3] + "..."


def format_event(e: dict, width: int = 100) -> str:
    """One event as one or two readable lines."""
    t = f"{e.get('time', 0):7.2f}s"
    kind = e["event"]
    if kind == "start":
        return f"{t} START  task: {_short(e.get('task', ''), width)}\n" \
               f"         model {e.get('model')}, tools: {', '.join(e.get('tools', []))}"
    if kind == "model":
        calls = "; ".join(f"{c['name']}({json.dumps(c['arguments'])})"
                          for c in e.get("tool_calls", []))
        said = _short(e.get("content", ""), width)
        toks = e.get("prompt_tokens", 0) + e.get("completion_tokens", 0)
        return f"{t} MODEL  step {e.get('step')}  {toks} tok  {e.get('latency_s', 0):.2f}s  " \
               + (f"thought: {said}  " if said else "") + (f"calls: {calls}" if calls else "")
    if kind == "tool":
        return f"{t} TOOL   {e.get('name')} [{e.get('status')}] -> " \
               f"{_short(e.get('output', ''), width)}"
    if kind == "end":
        return f"{t} END    {e.get('stopped')} after {e.get('steps')} step(s), " \
               f"{e.get('tokens')} tokens, ${e.get('cost_usd', 0):.4f}\n" \
               f"         answer: {_short(e.get('answer') or '', width)}"
    return f"{t} {kind.upper()} {_short(json.dumps(e), width)}"


def show(path: str | Path, stream: IO[str], width: int = 100) -> int:
    """Print a trace file; returns the number of events."""
    events = read_trace(path)
    for e in events:
        print(format_event(e, width), file=stream)
    return len(events)
