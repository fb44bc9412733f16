"""Tool schemas from Python type hints and docstrings, and argument validation.

A model calls tools through a JSON Schema description (the OpenAI tools format):
    {"name": "add", "description": "Add two integers.",
     "parameters": {"type": "object",
                    "properties": {"a": {"type": "integer", "description": "the first one."}},
                    "required": ["a"], "additionalProperties": False}}
"""

import inspect
import typing
from typing import Literal

JSON_TYPES = {int: "integer", float: "number", str: "string", bool: "boolean"}


def json_type(hint) -> dict:
    """int/float/str/bool -> {"type": ...}; list[X] -> {"type": "array", "items": json_type(X)};
    Literal["a", "b"] -> {"type": "string", "enum": ["a", "b"]}."""
    # BEGIN SOLUTION
    # starter> # Step 1: typing.get_origin(hint) and typing.get_args(hint) tell list[X]
    # starter> # and Literal apart.
    # starter> raise NotImplementedError("not implemented yet")
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Literal:
        return {"type": JSON_TYPES[type(args[0])], "enum": list(args)}
    if origin is list:
        return {"type": "array", "items": json_type(args[0])}
    return {"type": JSON_TYPES[hint]}
    # END SOLUTION


def parse_args_section(doc: str) -> dict:
    """{parameter: description} from the `Args:` section of a Google-style docstring
    (continuation lines joined with one space)."""
    # BEGIN SOLUTION
    # starter> # Step 2: after a line "Args:", lines "name: text" start a parameter; more indented
    # starter> # lines continue it; an unindented line ends the section.
    # starter> raise NotImplementedError("not implemented yet")
    out, current, inside = {}, None, False
    for line in inspect.cleandoc(doc or "").splitlines():
        if line.strip() == "Args:":
            inside = True
        elif inside and line and not line[0].isspace():
            break
        elif inside and ":" in line and len(line) - len(line.lstrip()) <= 4:
            current, text = line.strip().split(":", 1)
            out[current] = text.strip()
        elif inside and current and line.strip():
            out[current] += " " + line.strip()
    return out
    # END SOLUTION


def function_schema(fn) -> dict:
    """The function description of `fn`: name, the docstring's first line, and parameters
    (a parameter with a default is not required, and its schema has "default")."""
    # BEGIN SOLUTION
    # starter> # Step 3: inspect.signature(fn), typing.get_type_hints(fn), parse_args_section.
    # starter> raise NotImplementedError("not implemented yet")
    hints, described = typing.get_type_hints(fn), parse_args_section(fn.__doc__)
    props, required = {}, []
    for name, p in inspect.signature(fn).parameters.items():
        props[name] = {**json_type(hints[name]), "description": described.get(name, "")}
        if p.default is inspect.Parameter.empty:
            required.append(name)
        else:
            props[name]["default"] = p.default
    summary = inspect.cleandoc(fn.__doc__ or "").splitlines()[0] if fn.__doc__ else ""
    return {"name": fn.__name__, "description": summary,
            "parameters": {"type": "object", "properties": props, "required": required,
                           "additionalProperties": False}}
    # END SOLUTION


def validate_arguments(schema: dict, arguments: dict) -> list:
    """Problems with `arguments` (empty when they are valid). Each problem names its argument
    in backticks, e.g. "missing required argument `a`", "`b` must be an integer, got bool".
    Check: required present, no unknown names, types (a bool is not an integer or a number;
    an integer is a valid number), enum membership, array items."""
    # BEGIN SOLUTION
    # starter> # Step 4: compare each argument with schema["parameters"]["properties"][name].
    # starter> raise NotImplementedError("not implemented yet")
    params = schema["parameters"]
    problems = [f"missing required argument `{n}`" for n in params["required"]
                if n not in arguments]
    for name, value in arguments.items():
        prop = params["properties"].get(name)
        if prop is None:
            problems.append(f"unknown argument `{name}`")
        else:
            problems += _value_problems(f"`{name}`", prop, value)
    return problems
    # END SOLUTION


PY_TYPES = {"integer": int, "number": (int, float), "string": str, "boolean": bool,
            "array": list}


def _value_problems(where: str, prop: dict, value) -> list:
    # BEGIN SOLUTION
    # starter> raise NotImplementedError("not implemented yet")
    kind = prop["type"]
    if not isinstance(value, PY_TYPES[kind]) or (isinstance(value, bool) and kind != "boolean"):
        return [f"{where} must be {kind}, got {type(value).__name__}"]
    if "enum" in prop and value not in prop["enum"]:
        return [f"{where} must be one of {prop['enum']}"]
    if kind == "array":
        return [p for i, v in enumerate(value)
                for p in _value_problems(f"{where}[{i}]", prop["items"], v)]
    return []
    # END SOLUTION


def schema_from_source(source: str, name: str) -> dict:
    """Given (do not edit): the checker sends tools as source text, since a function cannot
    cross between processes; this defines it and returns function_schema of it."""
    namespace: dict = {}
    exec(source, namespace)
    return function_schema(namespace[name])
