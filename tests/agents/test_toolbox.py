"""Calculator (AST, no eval), file tools confined to a root, document search."""

from __future__ import annotations

import os

import pytest

from hubkit.agents.retrieval import Chunk, TfidfIndex
from hubkit.agents.toolbox import CalculatorError, FileTools, PathRefused, calculator, search_tool


@pytest.mark.parametrize("expr, want", [("1 + 2 * 3", "7"), ("(1 + 2) * 3", "9"),
                                        ("2 ** 10", "1024"), ("-7 // 2", "-4"), ("7 % 3", "1"),
                                        ("sqrt(16) + pi * 0", "4.0"), ("10 / 4", "2.5")])
def test_calculator_evaluates_arithmetic(expr, want):
    assert calculator(expr) == want


@pytest.mark.parametrize("expr, message", [
    ("__import__('os').system('ls')", "not allowed"), ("open('x')", "not allowed"),
    ("(1).__class__", "not allowed"), ("9 ** 9 ** 9", "too large"), ("1 / 0", "division"),
    ("lambda: 1", "not allowed"), ("2 +", "not an arithmetic expression")])
def test_calculator_refuses_everything_else(expr, message):
    with pytest.raises(CalculatorError, match=message):
        calculator(expr)


def test_file_tools_read_inside_the_root_only(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "secret.txt"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "notes.txt").write_text("inside")
    outside.write_text("secret")
    os.symlink(outside, root / "link.txt")
    files = FileTools(root)
    assert files.read_file("sub/notes.txt") == "inside"
    assert "sub/notes.txt" in files.list_files()
    for bad in ("../secret.txt", str(outside), "link.txt", "sub/../../secret.txt"):
        with pytest.raises(PathRefused, match="outside the allowed folder"):
            files.read_file(bad)
    with pytest.raises(PathRefused):
        files.list_files("..")


def test_file_tools_cut_long_files(tmp_path):
    (tmp_path / "big.txt").write_text("x" * 500)
    text = FileTools(tmp_path, max_chars=100).read_file("big.txt")
    assert text.endswith("cut at 100 characters]")


def test_search_tool_returns_ids_to_cite():
    index = TfidfIndex()
    index.add([Chunk("a.md#0", "The launch code is 1234."), Chunk("b.md#0", "Cats purr.")])
    out = search_tool(index, k=1)(query="launch code")
    assert out.startswith("[a.md#0]") and "Cats" not in out
