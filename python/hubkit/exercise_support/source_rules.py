"""Rules read from the learner's source (in the grader, never running it): no loops, type hints.

A CustomSpec's `check(learner, ctx)` gets a stand-in for the learner's module;
`learner_source` reads the file the checker was given for it (read only), and
the rules below walk its syntax tree with `ast`, so a drill can forbid Python
loops and a typing exercise can require annotations.
"""

from __future__ import annotations

import ast
from pathlib import Path

from hubkit.check import CheckFailure

LOOPS = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp,
         ast.GeneratorExp)


def learner_source(learner, name: str) -> str:
    """The text of the learner's file `name` (one of the exercise's `files`)."""
    files = learner._session.payload["files"]
    return Path(files[name]).read_text(encoding="utf-8")


def _functions(tree: ast.Module, names: tuple[str, ...]) -> dict[str, ast.FunctionDef]:
    found = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    return {n: found[n] for n in names if n in found}


def forbid_loops(source: str, functions: tuple[str, ...]) -> None:
    """CheckFailure naming the first loop or comprehension inside one of `functions`."""
    tree = ast.parse(source)
    for name, fn in _functions(tree, functions).items():
        for node in ast.walk(fn):
            if isinstance(node, LOOPS):
                kind = type(node).__name__.replace("Comp", " comprehension").replace(
                    "GeneratorExp", "generator expression")
                raise CheckFailure(f"{name} uses a Python loop ({kind.lower()} on line "
                                   f"{node.lineno}): loops are not allowed in this drill; "
                                   "express it with broadcasting and whole-array operations")


def require_annotations(source: str, functions: tuple[str, ...]) -> None:
    """CheckFailure naming a function (or method) of `functions` missing a type hint."""
    tree = ast.parse(source)
    defs = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    for name in functions:
        node = defs.get(name)
        todo = [m for m in node.body if isinstance(m, ast.FunctionDef)] \
            if isinstance(node, ast.ClassDef) else [node] if node else []
        for fn in todo:
            args = [a for a in fn.args.args + fn.args.kwonlyargs if a.arg not in ("self", "cls")]
            missing = [a.arg for a in args if a.annotation is None]
            if missing or fn.returns is None:
                what = f"argument(s) {', '.join(missing)}" if missing else "its return type"
                raise CheckFailure(f"{fn.name} (line {fn.lineno}) has no type hint for {what}: "
                                   "annotate every argument and the return value")
