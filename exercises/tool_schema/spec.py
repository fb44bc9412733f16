"""Checker spec for tool_schema: random tool functions as source text, schemas and validation.

The grader writes random functions (names, parameter types among int, float,
str, bool, list[int], list[str] and Literal, defaults, Google-style
docstrings), sends their source, and compares the learner's schema with
hubkit.agents.tools.function_schema of the same source. Then it draws valid
and invalid argument sets; every invalid one must produce a problem that names
the faulty argument, and every valid one none.
"""

from __future__ import annotations

import random

import torch

from hubkit.agents.tools import function_schema
from hubkit.check import CheckContext, CustomSpec

TYPES = {"int": (lambda r: r.randint(-99, 99)), "float": (lambda r: round(r.uniform(-9, 9), 2)),
         "str": (lambda r: r.choice(["x", "km", "hello"])), "bool": (lambda r: r.random() < .5),
         "list[int]": (lambda r: [r.randint(0, 9) for _ in range(r.randint(0, 3))]),
         "list[str]": (lambda r: [r.choice("abc") for _ in range(r.randint(0, 3))]),
         'Literal["fast", "slow"]': (lambda r: r.choice(["fast", "slow"]))}
WRONG = {"int": [True, "3", 2.5], "float": [False, "1.0"], "str": [7, None], "bool": [1, "yes"],
         "list[int]": ["1", [1, "2"], [True]], "list[str]": ["ab", [1]],
         'Literal["fast", "slow"]': ["medium", 3]}


def make_tool(rng: random.Random) -> tuple[str, str, dict]:
    """(source, name, {param: type}) of a random documented function."""
    name = rng.choice(["convert", "lookup", "schedule", "resize", "rank"]) + str(rng.randint(0, 99))
    params = {f"{w}{i}": rng.choice(list(TYPES)) for i, w in enumerate(
        rng.sample(["size", "unit", "mode", "count", "tags", "rate", "label"], rng.randint(2, 4)))}
    # subtle: every tool has a numeric parameter (True must be refused there) and an
    # optional one (a default must not be required), so each wrong version meets its case.
    params[next(iter(params))] = rng.choice(["int", "float", "list[int]"])
    n_required = rng.randint(1, len(params) - 1)
    sig = []
    for i, (p, t) in enumerate(params.items()):
        sig.append(f"{p}: {t}" + ("" if i < n_required else f" = {TYPES[t](rng)!r}"))
    doc = [f"Do the {name} thing.", "", "Args:"]
    for p in params:
        doc += [f"    {p}: what {p} means,", f"        continued for {p}."]
    doc += ["", "Returns:", "    a string."]
    body = "\n".join("    " + line if line else "" for line in doc)
    source = (f"from typing import Literal\n\n\ndef {name}({', '.join(sig)}) -> str:\n"
              f'    """{body.strip()}\n    """\n    return "ok"\n')
    return source, name, params


def _expected(source: str, name: str) -> dict:
    namespace: dict = {}
    exec(source, namespace)  # the grader's own generated source
    return function_schema(namespace[name])


def _check_schema(learner, ctx: CheckContext, source: str, name: str) -> dict:
    want = _expected(source, name)
    with ctx.guard():
        got = learner.schema_from_source(source, name)
    for key in ("name", "description"):
        if got.get(key) != want[key]:
            ctx.fail(f"schema {key}: {got.get(key)!r}, expected {want[key]!r}\n{source}")
    gp, wp = got.get("parameters", {}), want["parameters"]
    if gp.get("required") != wp["required"]:
        ctx.fail(f"required: {gp.get('required')}, expected {wp['required']} (parameters with "
                 f"a default are optional)\n{source}")
    for p, prop in wp["properties"].items():
        if gp.get("properties", {}).get(p) != prop:
            ctx.fail(f"properties[{p!r}]: {gp.get('properties', {}).get(p)}, expected "
                     f"{prop}\n{source}")
    if gp.get("additionalProperties") is not False or gp.get("type") != "object":
        ctx.fail('parameters need "type": "object" and "additionalProperties": false')
    return want


def _check_validation(learner, ctx: CheckContext, rng: random.Random, schema: dict,
                      params: dict) -> None:
    required = schema["parameters"]["required"]
    valid = {p: TYPES[t](rng) for p, t in params.items() if p in required or rng.random() < .5}
    with ctx.guard():
        problems = learner.validate_arguments(schema, valid)
    if problems:
        ctx.fail(f"valid arguments {valid} were refused: {problems}")
    for p, t in params.items():
        for bad_value in WRONG[t]:
            _expect_problem(learner, ctx, schema, {**valid, p: bad_value}, p,
                            f"{p}={bad_value!r} for a {t} parameter")
    _expect_problem(learner, ctx, schema, {k: v for k, v in valid.items() if k != required[0]},
                    required[0], f"missing required `{required[0]}`")
    _expect_problem(learner, ctx, schema, {**valid, "surprise": 1}, "surprise",
                    "an unknown argument `surprise`")


def _expect_problem(learner, ctx, schema, arguments, name, what) -> None:
    with ctx.guard():
        problems = learner.validate_arguments(schema, arguments)
    if not problems:
        ctx.fail(f"validation skipped: {what} was accepted (arguments {arguments})")
    if not any(f"`{name}" in str(p) for p in problems):
        ctx.fail(f"{what}: the problems {problems} do not name `{name}`")


def check(learner, ctx: CheckContext) -> None:
    rng = random.Random(int(torch.randint(0, 2**31 - 1, (), generator=ctx.gen)))
    for _ in range(3 if ctx.fast else 10):
        source, name, params = make_tool(rng)
        schema = _check_schema(learner, ctx, source, name)
        _check_validation(learner, ctx, rng, schema, params)
    ctx.note("schemas match hubkit.agents.tools.function_schema; validation names arguments")


SPEC = CustomSpec(check=check)
