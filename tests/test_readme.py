"""The README's code runs as written: its Python blocks execute, its commands answer --help."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
TEXT = README.read_text()


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", TEXT, flags=re.S)


def _module_commands() -> list[list[str]]:
    """`python -m hubkit.X [sub]` lines of the bash blocks, without comments or options."""
    found = []
    for block in _blocks("bash"):
        for line in block.splitlines():
            words = shlex.split(line.split("#")[0])
            if words[:2] == ["python", "-m"] and words[2].startswith("hubkit."):
                found.append([w for w in words[2:] if not w.startswith("-")][:2])
    return found


def test_readme_has_two_setup_commands_the_ci_script_runs():
    setup = _blocks("bash")[0]
    commands = [ln for ln in setup.splitlines() if ln and not ln.startswith("#")]
    assert len(commands) == 2
    ci = (README.parent / ".ci" / "run").read_text().replace("pip install -q ", "pip install ")
    for part in commands[1].split(" && "):  # CI may check the build between the two
        assert part in ci, part


def test_readme_python_blocks_run_as_written(tmp_path):
    pytest.importorskip("gymnasium")
    pytest.importorskip("mujoco")
    for block in _blocks("python"):
        proc = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, capture_output=True,
                              text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
    assert list(tmp_path.iterdir()) == []  # the snippet writes nothing


@pytest.mark.parametrize("command", _module_commands(), ids=" ".join)
def test_readme_example_answers_help_without_running(command, tmp_path):
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    proc = subprocess.run([sys.executable, "-m", *command, "--help"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.startswith("usage:") and "--out" in proc.stdout
    assert list(tmp_path.iterdir()) == []


def test_readme_examples_cover_every_training_entry_point():
    modules = {c[0] for c in _module_commands()}
    assert {"hubkit.cnn.train", "hubkit.attention.train", "hubkit.peft.train",
            "hubkit.rl.dqn", "hubkit.envs.train"} <= modules


def test_readme_never_tells_a_reader_to_install_the_unrelated_hubkit():
    """`hubkit` on the package index is another project: every install names hubkit-learn."""
    wrong = re.findall(r"pip install[^`\n&;]*?[\s\"'`]hubkit(?![-\w])", TEXT)
    assert not wrong, wrong


def test_readme_counts_the_exercises_check_all_grades():
    from hubkit.check.exercises import all_exercises

    stated = re.search(r"grades the (\d+) exercises", TEXT)
    assert stated and int(stated.group(1)) == len(all_exercises())
