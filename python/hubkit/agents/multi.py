"""Several agents: a shared blackboard, a manager with workers, a critic.

* `Blackboard`: the messages agents send each other, in order, each with its
  author, recipient and kind ("assignment", "result", "critique", "answer").
  Every agent reads what it needs from it; the whole exchange is one record.
* `manager_workers`: the manager (a chat model) splits the task into
  assignments, one line each, `worker_name: subtask`; each worker (an Agent)
  solves its subtask; the manager reads the results off the board and answers.
* `critic_loop`: a worker answers, a critic (a chat model) replies "APPROVE"
  or a critique; the worker revises with the critique, up to `rounds` times.

Example:
    >>> board = Blackboard()
    >>> _ = board.post("manager", "calc", "assignment", "2+2")
    >>> board.read(kind="assignment")[0].content
    '2+2'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MANAGER_SYSTEM = ("You are a manager. Split the task into subtasks for your workers, one line "
                  "each, written `worker_name: subtask`. Workers: {workers}.")
SYNTH_SYSTEM = "Combine your workers' results into the final answer to the task."
CRITIC_SYSTEM = ("You review answers. Reply APPROVE if the answer is correct and complete, "
                 "otherwise say what is wrong.")


@dataclass
class Post:
    author: str
    to: str
    kind: str
    content: str


@dataclass
class Blackboard:
    """The shared record of every message between agents."""

    posts: list[Post] = field(default_factory=list)

    def post(self, author: str, to: str, kind: str, content: str) -> Post:
        p = Post(author, to, kind, content)
        self.posts.append(p)
        return p

    def read(self, to: str | None = None, kind: str | None = None) -> list[Post]:
        return [p for p in self.posts if (to is None or p.to == to)
                and (kind is None or p.kind == kind)]

    def text(self, kind: str | None = None) -> str:
        return "\n".join(f"{p.author} -> {p.to} [{p.kind}]: {p.content}"
                         for p in self.read(kind=kind))


@dataclass
class TeamResult:
    answer: str | None
    board: Blackboard
    tokens: int


def assignments(text: str, workers: list[str]) -> list[tuple[str, str]]:
    """`name: subtask` lines whose name is a known worker (others are ignored)."""
    out = []
    for m in re.finditer(r"^\s*(?:[-*\d.)]\s*)*(\w+)\s*:\s*(.+)$", text, re.M):
        if m.group(1) in workers:
            out.append((m.group(1), m.group(2).strip()))
    return out


def manager_workers(manager, workers: dict, task: str) -> TeamResult:
    """Manager splits, workers solve, manager combines (module docstring)."""
    board, tokens = Blackboard(), 0
    board.post("user", "manager", "task", task)
    plan = manager.chat([{"role": "system", "content": MANAGER_SYSTEM.format(
        workers=", ".join(workers))}, {"role": "user", "content": task}])
    tokens += plan.usage.total
    for name, subtask in assignments(plan.content, list(workers)):
        board.post("manager", name, "assignment", subtask)
        run = workers[name].run(subtask)
        tokens += run.tokens
        board.post(name, "manager", "result", f"{subtask} => {run.answer or 'no answer'}")
    final = manager.chat([{"role": "system", "content": SYNTH_SYSTEM},
                          {"role": "user", "content": f"Task: {task}\nResults:\n"
                           + board.text(kind="result")}])
    board.post("manager", "user", "answer", final.content)
    return TeamResult(final.content, board, tokens + final.usage.total)


def critic_loop(worker, critic, task: str, rounds: int = 2) -> TeamResult:
    """Worker answers; critic approves or critiques; the worker revises (module docstring)."""
    board, tokens = Blackboard(), 0
    prompt = task
    answer = None
    for _ in range(rounds + 1):
        run = worker.run(prompt)
        tokens += run.tokens
        answer = run.answer
        board.post("worker", "critic", "answer", str(answer))
        review = critic.chat([{"role": "system", "content": CRITIC_SYSTEM},
                              {"role": "user", "content": f"Task: {task}\nAnswer: {answer}"}])
        tokens += review.usage.total
        board.post("critic", "worker", "critique", review.content)
        if review.content.strip().upper().startswith("APPROVE"):
            break
        prompt = f"{task}\nYour previous answer: {answer}\nA reviewer said: {review.content}\n" \
                 "Give a corrected answer."
    return TeamResult(answer, board, tokens)
