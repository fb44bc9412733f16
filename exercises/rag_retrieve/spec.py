"""Checker spec for rag_retrieve: TF-IDF retrieval and citations, against a scripted model.

Corpora are drawn per run: filler chunks full of common words, one chunk
holding a fact (a random code name with a random number), and a distractor
that repeats the query's common words many times. With idf the fact's chunk
ranks first; with raw counts the distractor does. The index is compared with
the formula (idf values, unit-length vectors), `search` must return exactly k
indices, and `answer` is graded with a scripted model that cites the source
holding the fact as [n]: the learner must map [n] back to the right chunk.
"""

from __future__ import annotations

import math
import random
import re

import torch

from hubkit.check import CheckContext, CustomSpec

COMMON = ["the", "system", "service", "data", "value", "report", "team", "time", "user"]
RARE = ["zephyr", "quasar", "nimbus", "fjord", "kestrel", "obsidian", "sorrel", "tundra"]


def corpus(rng: random.Random, n: int) -> tuple[list[str], int, str, str]:
    """(chunks, index of the fact's chunk, question, the fact's number)."""
    name, number = rng.choice(RARE) + str(rng.randint(10, 99)), str(rng.randint(1000, 99999))
    chunks = [" ".join(rng.choice(COMMON) for _ in range(rng.randint(8, 15))) + "."
              for _ in range(n)]
    fact = rng.randrange(n)
    chunks[fact] = f"The {name} service will report the value {number}."
    distractor = (fact + 1 + rng.randrange(n - 1)) % n
    # subtle: the distractor is the question's common words, repeated: with raw counts it
    # is the closest chunk; only idf lets the one rare word (the name) decide. Simulated
    # over 3000 seeds (10-15 chunks): the solution ranks the fact first in all of them,
    # raw counts in none.
    chunks[distractor] = "the service value report " * 4
    return chunks, fact, f"Which value does the {name} service report?", number


def _check_index(learner, ctx: CheckContext, chunks: list[str]) -> None:
    with ctx.guard():
        index = learner.build_index(chunks)
    df = {}
    for c in chunks:
        for t in set(re.findall(r"[a-z0-9]+", c.lower())):
            df[t] = df.get(t, 0) + 1
    for t, f in df.items():
        want = math.log((len(chunks) + 1) / (f + 1)) + 1
        got = index.get("idf", {}).get(t)
        if got is None or abs(got - want) > 1e-9:
            ctx.fail(f"idf[{t!r}] = {got}, expected log((N + 1) / (df + 1)) + 1 = {want:.6f}")
    for i, vec in enumerate(index.get("vectors", [])):
        norm = math.sqrt(sum(v * v for v in vec.values()))
        if abs(norm - 1) > 1e-9:
            ctx.fail(f"vectors[{i}] has length {norm:.6f}; normalise each chunk to length 1")


def _check_search(learner, ctx: CheckContext, chunks, fact: int, question: str, k: int) -> None:
    with ctx.guard():
        index = learner.build_index(chunks)
        hits = learner.search(index, question, k)
    if len(hits) != k or len(set(hits)) != k:
        ctx.fail(f"search returned {hits}: expected {k} distinct chunk indices (k={k})")
    if hits[0] != fact:
        ctx.fail(f"search ranked chunk {hits[0]} first for {question!r}, not the chunk with the "
                 f"fact ({fact}): {chunks[hits[0]][:60]!r}. Rare words must weigh more (idf).")


def _scripted_chat(ctx: CheckContext, fact_text: str, number: str, seen: list):
    def chat(messages):
        seen.append(messages)
        text = messages[-1]["content"]
        for m in re.finditer(r"^\[(\d+)\] (.*)$", text, re.M):
            if m.group(2).strip() == fact_text:
                return {"content": f"It reports {number} [{m.group(1)}].", "tool_calls": []}
        ctx.fail("the prompt did not list the chunk with the answer as '[n] text' lines")
    return chat


def _check_answer(learner, ctx: CheckContext, chunks, fact: int, question: str,
                  number: str) -> None:
    seen: list = []
    chat = _scripted_chat(ctx, chunks[fact], number, seen)
    with ctx.guard():
        out = learner.answer(chat, chunks, question, 3)
    if len(seen) != 1:
        ctx.fail(f"answer called the model {len(seen)} times, expected once")
    if number not in str(out.get("answer")):
        ctx.fail(f"answer returned {out.get('answer')!r}: return the model's reply")
    if out.get("sources") != [fact]:
        ctx.fail(f"sources {out.get('sources')} do not point at the cited chunk {fact}: "
                 "citation [n] is the n-th hit, counting from 1")


def check(learner, ctx: CheckContext) -> None:
    rng = random.Random(int(torch.randint(0, 2**31 - 1, (), generator=ctx.gen)))
    for _ in range(2 if ctx.fast else 6):
        chunks, fact, question, number = corpus(rng, rng.randint(10, 15))
        _check_index(learner, ctx, chunks)
        _check_search(learner, ctx, chunks, fact, question, rng.randint(2, 4))
        _check_answer(learner, ctx, chunks, fact, question, number)
    ctx.note("idf, ranking and citations hold on random corpora")


SPEC = CustomSpec(check=check)
