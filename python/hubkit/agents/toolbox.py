"""The built-in tools: a calculator, file reading within a root, document search.

* `calculator(expression)`: arithmetic by walking the expression's AST (numbers,
  + - * / // % **, unary minus, parentheses, a few math functions and
  constants). No `eval`: a name, attribute, call or literal outside that list is
  refused, and huge powers are refused before they are computed.
* `FileTools(root)`: `read_file(path)` and `list_files(folder)` inside `root`
  only. The path is resolved (symlinks and `..` followed) before the check, so
  a link pointing out of the root is refused too. Output is capped.
* `search_tool(retriever)`: the retriever's top chunks, each with its id, to cite.
  Its output is marked untrusted: documents are data, not instructions.
* The Python sandbox is in hubkit.agents.sandbox (`python_tool`).

Example:
    >>> calculator("2 * (3 + 4) ** 2 - sqrt(16)")
    '94.0'
"""

from __future__ import annotations

import ast
import math
import operator
from pathlib import Path

from hubkit.agents.tools import Tool

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
           ast.Pow: operator.pow}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_FUNCS = {"sqrt": math.sqrt, "log": math.log, "exp": math.exp, "sin": math.sin, "cos": math.cos,
          "tan": math.tan, "abs": abs, "round": round, "floor": math.floor, "ceil": math.ceil}
_CONSTS = {"pi": math.pi, "e": math.e}
MAX_POWER = 10_000  # |exponent| cap: 10**10000 is fine, 9**9**9 would hang the agent


class CalculatorError(ValueError):
    """An expression the calculator does not evaluate (the message says which part)."""


def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression and return the result.

    Args:
        expression: numbers, + - * / // % ** and parentheses; sqrt, log, exp, sin, cos, tan,
            abs, round, floor, ceil; the constants pi and e. Example: "2 * (3 + 4) ** 2".
    """
    if len(expression) > 1000:
        raise CalculatorError("expression longer than 1000 characters")
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as err:
        raise CalculatorError(f"not an arithmetic expression: {err.msg}") from None
    value = _eval(tree.body)
    return str(value)


def _eval(node: ast.AST):
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_POWER:
            raise CalculatorError(f"exponent {right} is too large (limit {MAX_POWER})")
        try:
            return _BINARY[type(node.op)](left, right)
        except ZeroDivisionError:
            raise CalculatorError("division by zero") from None
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_eval(node.operand))
    if isinstance(node, ast.Name) and node.id in _CONSTS:
        return _CONSTS[node.id]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
            node.func.id in _FUNCS and not node.keywords:
        return _FUNCS[node.func.id](*[_eval(a) for a in node.args])
    raise CalculatorError(f"not allowed in an expression: {ast.unparse(node)!r}")


class PathRefused(PermissionError):
    """A path outside the tool's root."""


def inside(root: Path, path: str | Path) -> Path:
    """`root / path` resolved; PathRefused unless it stays inside `root` (after symlinks)."""
    root = Path(root).resolve()
    full = (root / path).resolve()
    if full != root and root not in full.parents:
        raise PathRefused(f"{path!s} is outside the allowed folder {root}")
    return full


class FileTools:
    """`read_file` and `list_files` confined to one folder.

    Args:
        root: the only folder the tools may read.
        max_chars: longest text `read_file` returns (the rest is cut, and it says so).
    """

    def __init__(self, root: str | Path, max_chars: int = 20_000) -> None:
        self.root, self.max_chars = Path(root).resolve(), max_chars

    def read_file(self, path: str) -> str:
        """Read a text file.

        Args:
            path: the file, relative to the allowed folder.
        """
        full = inside(self.root, path)
        if not full.is_file():
            raise FileNotFoundError(f"no file {path} in {self.root}")
        text = full.read_text(encoding="utf-8", errors="replace")
        if len(text) > self.max_chars:
            return text[:self.max_chars] + f"\n[... cut at {self.max_chars} characters]"
        return text

    def list_files(self, folder: str = ".") -> str:
        """List the files in a folder, one relative path a line.

        Args:
            folder: relative to the allowed folder.
        """
        full = inside(self.root, folder)
        return "\n".join(str(p.relative_to(self.root)) for p in sorted(full.rglob("*"))
                         if p.is_file() and self._stays_inside(p))

    def _stays_inside(self, path: Path) -> bool:
        """False for a symlink that leads out of the root (it is not listed)."""
        try:
            inside(self.root, path.relative_to(self.root))
            return True
        except PathRefused:
            return False

    def tools(self) -> list[Tool]:
        return [Tool.from_function(self.read_file, untrusted=True),
                Tool.from_function(self.list_files)]


def search_tool(retriever, k: int = 3) -> Tool:
    """A `search(query)` tool over a retriever (hubkit.agents.retrieval): chunks with their ids."""

    def search(query: str) -> str:
        """Search the documents; returns the best passages, each with an id to cite.

        Args:
            query: what to look for, in a few words.
        """
        hits = retriever.search(query, k)
        return "\n\n".join(f"[{h.id}] {h.text}" for h in hits) or "no passage found"

    return Tool.from_function(search, untrusted=True)


def calculator_tool() -> Tool:
    return Tool.from_function(calculator)
