"""`hubkit serve` and `hubkit agents ...`: registered, and light to build."""

from __future__ import annotations

import json
import subprocess
import sys

from hubkit.cli import main


def test_building_the_parser_imports_no_model_library():
    code = ("import json, sys; from hubkit.cli import build_parser; build_parser(); "
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'torch', 'transformers', 'openai', 'fastapi', 'uvicorn', 'langchain_core'})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_serve_refuses_a_folder_without_a_model(tmp_path, capsys):
    assert main(["serve", str(tmp_path)]) == 2
    assert "not a model folder" in capsys.readouterr().err


def test_trace_of_a_missing_file_is_a_usage_error(tmp_path, capsys):
    assert main(["agents", "trace", str(tmp_path / "none.jsonl")]) == 2


def test_agents_eval_passes_its_arguments_on(tmp_path):
    assert main(["agents", "eval", "--seeds", "1", "--per-suite", "1", "--quiet",
                 "--suites", "tool_use", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "report.json").is_file()
