"""Agent memory: a conversation buffer with summaries, long-term vector memory, episodic memory.

* `ConversationBuffer(budget)`: what the model sees each step. The system
  prompt and the task (first user message) are pinned; the newest messages are
  kept while they fit in the token budget; older ones are folded into one
  summary message. Use it as `Agent(..., context=ConversationBuffer(2000))`.
* `VectorMemory`: facts stored as text, recalled by similarity to a query
  (the same index interface as retrieval: TF-IDF here, embeddings later).
* `EpisodicMemory`: past tasks with their outcome and a lesson, in a JSONL
  file; `advice(task)` recalls the most similar episodes as a prompt.

Example:
    >>> buf = ConversationBuffer(budget_tokens=30)
    >>> msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Task."}]
    >>> msgs += [{"role": "user", "content": f"message number {i} " * 5} for i in range(6)]
    >>> seen = buf(msgs)
    >>> seen[0]["content"], seen[2]["content"].startswith("Summary of")
    ('Be brief.', True)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from hubkit.agents.models import approx_tokens
from hubkit.agents.retrieval import Chunk, make_index


def extractive_summary(messages: list[dict], chars_each: int = 80) -> str:
    """A summary without a model: role and the start of each message."""
    return " | ".join(f"{m['role']}: {' '.join(str(m.get('content') or '').split())[:chars_each]}"
                      for m in messages)


def model_summarizer(model) -> Callable[[list[dict]], str]:
    """A summarizer that asks `model` to summarize the folded messages."""

    def summarize(messages: list[dict]) -> str:
        text = extractive_summary(messages, chars_each=400)
        prompt = [{"role": "system", "content": "Summarize this conversation in a few "
                   "sentences, keeping every fact, number and decision."},
                  {"role": "user", "content": text}]
        return model.chat(prompt).content

    return summarize


class ConversationBuffer:
    """Pinned system prompt and task, the newest messages within budget, a summary of the rest.

    Args:
        budget_tokens: most tokens (approx_tokens) of what the model sees.
        summarize: messages -> text (default: `extractive_summary`; `model_summarizer(m)`).
    """

    def __init__(self, budget_tokens: int = 4000,
                 summarize: Callable[[list[dict]], str] = extractive_summary) -> None:
        self.budget, self.summarize = budget_tokens, summarize

    def __call__(self, messages: list[dict]) -> list[dict]:
        npin = 2 if len(messages) > 1 and messages[1]["role"] == "user" else 1
        if messages[0]["role"] != "system":
            npin -= 1
        pinned, rest = messages[:npin], messages[npin:]
        if _size(messages) <= self.budget:
            return list(messages)
        start = self._window_start(rest, self.budget - _size(pinned) - 40)
        folded = rest[:start]
        summary = {"role": "user", "content": "Summary of the earlier conversation: "
                   + self.summarize(folded)} if folded else None
        return pinned + ([summary] if summary else []) + rest[start:]

    @staticmethod
    def _window_start(rest: list[dict], room: int) -> int:
        start, used = len(rest), 0
        while start > 0 and used + _size([rest[start - 1]]) <= room:
            start -= 1
            used += _size([rest[start]])
        # subtle: a `tool` message must follow the assistant message that asked for
        # it; a window starting on one would be rejected by OpenAI-style servers.
        while start < len(rest) and rest[start]["role"] == "tool":
            start += 1
        return start


def _size(messages: list[dict]) -> int:
    return sum(approx_tokens(str(m.get("content") or "")) + 4 for m in messages)


class VectorMemory:
    """Long-term memory: `remember(text)`, then `recall(query, k)` by similarity."""

    def __init__(self, index=None) -> None:
        self.index = index if index is not None else make_index()
        self.count = 0

    def remember(self, text: str, source: str = "memory") -> str:
        chunk_id = f"{source}#{self.count}"
        self.index.add([Chunk(chunk_id, text, source)])
        self.count += 1
        return chunk_id

    def recall(self, query: str, k: int = 3) -> list[str]:
        return [h.text for h in self.index.search(query, k)]


@dataclass
class Episode:
    """One finished task: what was asked, whether it worked, and what to remember."""

    task: str
    success: bool
    answer: str | None
    steps: int
    lesson: str = ""


class EpisodicMemory:
    """Past tasks and outcomes (kept in a JSONL file when `path` is given)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.episodes: list[Episode] = []
        if self.path is not None and self.path.is_file():
            self.episodes = [Episode(**json.loads(line))
                             for line in self.path.read_text().splitlines() if line.strip()]

    def record(self, episode: Episode) -> None:
        self.episodes.append(episode)
        if self.path is not None:
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(asdict(episode)) + "\n")

    def similar(self, task: str, k: int = 3) -> list[Episode]:
        index = make_index()
        index.add([Chunk(f"ep#{i}", e.task) for i, e in enumerate(self.episodes)])
        return [self.episodes[int(h.id.split("#")[1])] for h in index.search(task, k)]

    def advice(self, task: str, k: int = 3) -> str:
        """Similar past episodes as text for a prompt ('' when there are none)."""
        lines = [f"- {e.task!r}: {'succeeded' if e.success else 'FAILED'} in {e.steps} steps"
                 + (f"; lesson: {e.lesson}" if e.lesson else "") for e in self.similar(task, k)]
        return "Past attempts at similar tasks:\n" + "\n".join(lines) if lines else ""
