"""A hand-written policy that plays the model's part on hubkit's task suites (not a language model).

With no real LLM on the machine, the evaluation harness, the exercises'
examples and the capstone demo still need something that calls tools. This
policy reads the task with regular expressions and acts as a competent model
would on the shipped task formats only:

* "Compute EXPR." -> calculator(EXPR) -> the number;
* "... the file NAME ..." -> read_file(NAME) -> the number in it (and, for
  "multiply it by M, then add A", calculator(n * M + A) -> the number);
* a question with a `search` tool -> search(content words) -> the best
  sentence of the best passage, citing its id;
* as a critic: recomputes "Compute EXPR." tasks and approves or corrects.

`slip` makes it unreliable on purpose: with that probability a final number
is off by one (drawn from a seeded generator), unless a reviewer's critique is
in the prompt. Scores with this policy measure the harness, the tools and the
protocols (and, with slip > 0, what a critic can repair), never a model.
"""

from __future__ import annotations

import random
import re

from hubkit.agents.models import FunctionModel, ToolCall
from hubkit.agents.retrieval import words
from hubkit.agents.toolbox import CalculatorError, calculator

_FENCE = re.compile(r'<tool_output tool="[^"]*" trust="[^"]*">\n(.*)\n</tool_output>', re.S)
_COMPUTE = re.compile(r"Compute (.+?)\.(?:\s|$)")
_FILE = re.compile(r"file (\S+?)[,?.]?\s")
_MULADD = re.compile(r"multiply it by (-?\d+), then add (-?\d+)")


def unfence(text: str) -> str:
    m = _FENCE.search(text or "")
    return m.group(1) if m else str(text or "")


def _number(text: str) -> str | None:
    m = re.search(r"-?\d+(?:\.\d+)?", text)
    return m.group(0) if m else None


def best_sentence(passages: str, question: str) -> str:
    """The sentence sharing most words with `question` in `[id] text` passages, cited."""
    q = set(words(question))
    best, best_score = "I do not know.", 0
    for m in re.finditer(r"\[([^\]]+)\] (.+?)(?=\n\n\[|\Z)", passages, re.S):
        for sentence in re.split(r"(?<=[.!?])\s+", m.group(2).strip()):
            score = len(q & set(words(sentence)))
            if score > best_score:
                best, best_score = f"{sentence.rstrip('.')} [{m.group(1)}].", score
    return best


class RulePolicy:
    """The policy (module docstring) as a callable `(messages, tools) -> step`."""

    def __init__(self, slip: float = 0.0, seed: int = 0) -> None:
        self.slip, self.rng = slip, random.Random(seed)

    def __call__(self, messages: list[dict], tools: list[dict] | None):
        task = next(m["content"] for m in messages if m["role"] == "user")
        seen = [unfence(m["content"]) for m in messages if m["role"] == "tool"]
        names = {t["name"] for t in tools or []}
        if messages[0]["role"] == "system" and messages[0]["content"].startswith("You review"):
            return self.review(task)
        if "Sources:" in task:  # a plain RAG call (hubkit.agents.rag.rag_prompt)
            sources, _, question = task.split("Sources:\n", 1)[1].rpartition("\n\nQuestion:")
            return best_sentence(sources, question)
        return self.act(task, seen, names)

    def act(self, task: str, seen: list[str], names: set[str]):
        file, compute = _FILE.search(task + " "), _COMPUTE.search(task)
        if file and "read_file" in names:
            if not seen:
                return ToolCall("read_file", {"path": file.group(1)})
            muladd, n = _MULADD.search(task), _number(seen[0])
            if muladd and len(seen) == 1 and n is not None:
                return ToolCall("calculator", {"expression":
                                               f"{n} * {muladd.group(1)} + {muladd.group(2)}"})
            return self.final(seen[-1], task)
        if compute and "calculator" in names:
            return ToolCall("calculator", {"expression": compute.group(1)}) if not seen \
                else self.final(seen[-1], task)
        if "search" in names:
            question = task.split("\n")[0]
            return ToolCall("search", {"query": " ".join(words(question))}) if not seen \
                else best_sentence(seen[-1], question)
        return "I cannot do this task with the tools I have."

    def final(self, observation: str, task: str) -> str:
        n = _number(observation)
        if n is None:
            return f"FAILED: no number in {observation[:80]!r}"
        if self.slip and "A reviewer said" not in task and self.rng.random() < self.slip:
            n = str(int(float(n)) + 1)
        return n

    def review(self, text: str) -> str:
        compute, answer = _COMPUTE.search(text), re.search(r"Answer: (.*)", text)
        if not compute or not answer:
            return "APPROVE"
        try:
            want = calculator(compute.group(1))
        except CalculatorError:
            return "APPROVE"
        got = _number(answer.group(1))
        if got is not None and float(got) == float(want):
            return "APPROVE"
        return f"The answer is wrong: {compute.group(1)} is not {got}. Recompute it."


def policy_model(slip: float = 0.0, seed: int = 0, name: str = "rule-policy") -> FunctionModel:
    """The rule policy as a hubkit chat model."""
    return FunctionModel(RulePolicy(slip, seed), name)
