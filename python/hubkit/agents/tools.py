"""Tools: a Python function and the JSON Schema a model sees, built from type hints and docstring.

`Tool.from_function(fn)` reads the signature (types, defaults) and a Google-style
docstring (the first line describes the tool; `Args:` lines describe each
parameter) and builds the function description of the OpenAI tools format:

    {"name": "add", "description": "Add two numbers.",
     "parameters": {"type": "object", "properties": {"a": {"type": "integer", ...}},
                    "required": ["a", "b"], "additionalProperties": false}}

Arguments a model sends are validated against that schema *before* the
function runs (`validate`): a missing or unknown argument, a wrong type (a bool
is not an integer; an integer is a valid number) or a value outside an `enum`
raises `ToolArgumentError` naming the argument, and the agent sends that
message back to the model instead of calling the tool.

Example:
    >>> def add(a: int, b: int = 1) -> int:
    ...     '''Add two integers.
    ...
    ...     Args:
    ...         a: the first one.
    ...         b: the second one.
    ...     '''
    ...     return a + b
    >>> t = Tool.from_function(add)
    >>> t.schema["parameters"]["required"]
    ['a']
    >>> t(a=2, b=3)
    5
    >>> t(a="2")
    Traceback (most recent call last):
    ...
    hubkit.agents.tools.ToolArgumentError: add: argument `a` must be an integer, got str '2'
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Union

_JSON_TYPES = {int: "integer", float: "number", str: "string", bool: "boolean"}
_PY_TYPES = {"integer": int, "number": (int, float), "string": str, "boolean": bool,
             "array": list, "object": dict}


class ToolArgumentError(ValueError):
    """Arguments that do not match a tool's schema; the message names the argument."""


def json_type(hint: Any) -> dict:
    """The JSON Schema of a type hint (int, float, str, bool, list[X], dict, Literal, X | None).

    Example:
        >>> json_type(list[int])
        {'type': 'array', 'items': {'type': 'integer'}}
    """
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint in _JSON_TYPES:
        return {"type": _JSON_TYPES[hint]}
    if origin is Literal:
        return {"type": _JSON_TYPES[type(args[0])], "enum": list(args)}
    if origin in (list, tuple) or hint in (list, tuple):
        return {"type": "array", **({"items": json_type(args[0])} if args else {})}
    if origin is dict or hint is dict:
        return {"type": "object"}
    if origin in (Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return json_type(rest[0]) if len(rest) == 1 else {}
    raise TypeError(f"no JSON Schema for the type hint {hint!r}: use int, float, str, bool, "
                    "list[...], dict, Literal[...] or X | None")


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """(summary, {argument: description}) from a Google-style docstring."""
    lines = inspect.cleandoc(doc or "").splitlines()
    summary = lines[0].strip() if lines else ""
    params: dict[str, str] = {}
    in_args, current = False, None
    for line in lines[1:]:
        if re.match(r"^(Args|Arguments|Parameters):\s*$", line.strip()):
            in_args = True
            continue
        if in_args and line and not line[0].isspace():
            break  # the next section (Returns:, Example:)
        m = re.match(r"^\s+(\w+)(?:\s*\(.*?\))?:\s*(.*)$", line) if in_args else None
        if m:
            current, params[m.group(1)] = m.group(1), m.group(2).strip()
        elif in_args and current and line.strip():
            params[current] += " " + line.strip()
    return summary, params


def function_schema(fn: Callable) -> dict:
    """The OpenAI-style function description of `fn` (module docstring)."""
    summary, described = parse_docstring(fn.__doc__)
    hints = typing.get_type_hints(fn)
    props, required = {}, []
    for name, p in inspect.signature(fn).parameters.items():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise TypeError(f"{fn.__name__}: *args/**kwargs (`{name}`) cannot be described "
                            "to a model; name every parameter")
        if name not in hints:
            raise TypeError(f"{fn.__name__}: parameter `{name}` needs a type hint")
        props[name] = {**json_type(hints[name]), "description": described.get(name, "")}
        if p.default is p.empty:
            required.append(name)
        else:
            props[name]["default"] = p.default
    return {"name": fn.__name__, "description": summary,
            "parameters": {"type": "object", "properties": props, "required": required,
                           "additionalProperties": False}}


def validate(schema: dict, arguments: dict) -> None:
    """Raise ToolArgumentError unless `arguments` fit the function `schema`."""
    name, params = schema["name"], schema["parameters"]
    if not isinstance(arguments, dict):
        raise ToolArgumentError(f"{name}: arguments must be a JSON object, got {arguments!r}")
    missing = [a for a in params.get("required", []) if a not in arguments]
    if missing:
        raise ToolArgumentError(f"{name}: missing required argument `{missing[0]}`")
    for arg, value in arguments.items():
        if arg not in params["properties"]:
            known = ", ".join(params["properties"]) or "none"
            raise ToolArgumentError(f"{name}: unknown argument `{arg}` (known: {known})")
        _check_value(f"{name}: argument `{arg}`", params["properties"][arg], value)


def _check_value(where: str, prop: dict, value: Any) -> None:
    kind = prop.get("type")
    # subtle: bool is a subclass of int in Python, but true is not an integer in JSON.
    if kind and (not isinstance(value, _PY_TYPES[kind]) or
                 (isinstance(value, bool) and kind != "boolean")):
        raise ToolArgumentError(f"{where} must be {_article(kind)}, got "
                                f"{type(value).__name__} {value!r}")
    if "enum" in prop and value not in prop["enum"]:
        raise ToolArgumentError(f"{where} must be one of {prop['enum']}, got {value!r}")
    if kind == "array" and "items" in prop:
        for i, item in enumerate(value):
            _check_value(f"{where}[{i}]", prop["items"], item)


def _article(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


@dataclass
class Tool:
    """A callable tool: the function, its schema, and whether its output is untrusted text.

    `untrusted`: the output comes from outside (files, documents, web pages), so
    the agent fences it as data (see hubkit.agents.react).
    """

    fn: Callable[..., Any]
    schema: dict
    untrusted: bool = False

    @classmethod
    def from_function(cls, fn: Callable, untrusted: bool = False, name: str | None = None) -> Tool:
        schema = function_schema(fn)
        if name:
            schema["name"] = name
        return cls(fn, schema, untrusted)

    @property
    def name(self) -> str:
        return self.schema["name"]

    def __call__(self, **arguments) -> Any:
        validate(self.schema, arguments)
        return self.fn(**arguments)


def tool(fn: Callable | None = None, *, untrusted: bool = False):
    """Decorator: `@tool` or `@tool(untrusted=True)` turns a function into a `Tool`."""
    if fn is None:
        return lambda f: Tool.from_function(f, untrusted)
    return Tool.from_function(fn, untrusted)
