"""Compiler output as a learner needs it (hubkit.check.build): errors first, warnings
only from the learner's own file."""

from __future__ import annotations

import re
import shutil
import textwrap

import pytest

from hubkit.check import build

pytestmark = pytest.mark.skipif(shutil.which("c++") is None and shutil.which("g++") is None,
                                reason="no C++ compiler here")

SUPPORT_HEADER = """\
#pragma once
inline int support_noise(int unused_a, int unused_b) { return 0; }
inline int more_noise(int unused_c) { return 1; }
"""

LEARNER = """\
#include "noise.h"

int scale(int x, int factor) {
    int y = x * 2;
    return y + not_declared;
}
"""


@pytest.fixture
def exercise(tmp_path, monkeypatch):
    monkeypatch.setenv("HUBKIT_CACHE", str(tmp_path / "cache"))
    (tmp_path / "support").mkdir()
    (tmp_path / "support" / "noise.h").write_text(SUPPORT_HEADER)
    (tmp_path / "work").mkdir()
    learner = tmp_path / "work" / "scale.cpp"
    learner.write_text(LEARNER)
    return tmp_path, learner


def _error(exercise) -> str:
    root, learner = exercise
    with pytest.raises(build.CompileError) as info:
        build.build_module([learner], "hubkit_ex_scale", [root / "support", learner.parent])
    return str(info.value)


def test_the_error_comes_first(exercise):
    text = _error(exercise)
    first = next(ln for ln in text.splitlines() if ": error: " in ln or ": warning: " in ln)
    assert ": error: " in first and "not_declared" in first


def test_warnings_from_files_the_learner_does_not_edit_are_hidden_and_counted(exercise):
    text = _error(exercise)
    assert "unused_a" not in text and "unused_c" not in text and "noise.h:" not in text
    assert "warnings in files you do not edit hidden" in text


def test_warnings_in_the_learners_own_file_are_kept_after_the_errors(exercise):
    text = _error(exercise)
    # subtle: gcc quotes names with ' or with typographic quotes, depending on the locale
    warning = re.search(r"unused parameter .factor.", text).start()
    assert text.index("not_declared") < warning
    assert "scale.cpp" in text[text.rfind("\n", 0, warning):warning]


def test_output_that_is_not_diagnostics_is_kept_verbatim():
    text = "ld: cannot find -lmujoco\ncollect2: error: ld returned 1 exit status"
    assert build.filter_diagnostics(text, []) == text


def test_context_lines_travel_with_their_diagnostic():
    out = textwrap.dedent("""\
        /w/support/h.h: In function 'int f(int)':
        /w/support/h.h:2:11: warning: unused parameter 'u' [-Wunused-parameter]
            2 | int f(int u) { return 0; }
              |       ~~~~^
        /w/mine.cpp: In function 'int g()':
        /w/mine.cpp:4:12: error: 'z' was not declared in this scope
            4 |     return z;
              |            ^""")
    kept = build.filter_diagnostics(out, [build.Path("/w/mine.cpp")]).splitlines()
    assert kept[0] == "/w/mine.cpp: In function 'int g()':"
    assert kept[1].startswith("/w/mine.cpp:4:12: error:") and "return z;" in kept[2]
    assert kept[-1] == "(1 warning in files you do not edit hidden)"
    assert not any("h.h" in ln for ln in kept)
