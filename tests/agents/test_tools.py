"""Tool schemas from type hints and docstrings; arguments validated before the call."""

from __future__ import annotations

from typing import Literal

import pytest

from hubkit.agents.tools import Tool, ToolArgumentError, function_schema, parse_docstring


def convert(amount: float, unit: Literal["km", "mi"], tags: list[str] | None = None,
            exact: bool = False) -> str:
    """Convert a distance.

    Args:
        amount: how far.
        unit: the unit to convert to,
            either km or mi.
        tags: labels.
        exact: keep all digits.

    Returns:
        the converted distance.
    """
    return f"{amount}{unit}"


def test_schema_reads_types_defaults_and_docstring():
    s = function_schema(convert)
    props = s["parameters"]["properties"]
    assert s["name"] == "convert" and s["description"] == "Convert a distance."
    assert props["amount"] == {"type": "number", "description": "how far."}
    assert props["unit"]["enum"] == ["km", "mi"]
    assert props["unit"]["description"] == "the unit to convert to, either km or mi."
    assert props["tags"]["type"] == "array" and props["tags"]["items"] == {"type": "string"}
    assert props["exact"]["default"] is False
    assert s["parameters"]["required"] == ["amount", "unit"]
    assert s["parameters"]["additionalProperties"] is False


def test_docstring_sections_after_args_are_not_parameters():
    _, params = parse_docstring(convert.__doc__)
    assert set(params) == {"amount", "unit", "tags", "exact"}


@pytest.mark.parametrize("args, message", [
    ({"unit": "km"}, "missing required argument `amount`"),
    ({"amount": 1, "unit": "yd"}, "`unit` must be one of"),
    ({"amount": "1", "unit": "km"}, "`amount` must be a number"),
    ({"amount": 1, "unit": "km", "exact": 1}, "`exact` must be a boolean"),
    ({"amount": 1, "unit": "km", "tags": ["a", 2]}, "`tags`[1] must be a string"),
    ({"amount": 1, "unit": "km", "speed": 3}, "unknown argument `speed`"),
])
def test_bad_arguments_are_refused_before_the_call(args, message):
    called = []
    t = Tool(lambda **kw: called.append(kw), function_schema(convert))
    with pytest.raises(ToolArgumentError) as err:
        t(**args)
    assert message in str(err.value) and called == []


def test_bool_is_not_an_integer():
    def f(n: int) -> int:
        """Double n."""
        return 2 * n

    with pytest.raises(ToolArgumentError, match="must be an integer, got bool"):
        Tool.from_function(f)(n=True)
    assert Tool.from_function(f)(n=3) == 6


def test_untyped_and_star_parameters_are_refused():
    def untyped(x):
        """No hint."""

    def star(*args: int):
        """Star."""

    with pytest.raises(TypeError, match="`x` needs a type hint"):
        function_schema(untyped)
    with pytest.raises(TypeError, match="name every parameter"):
        function_schema(star)
