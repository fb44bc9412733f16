"""Train word2vec on an offline corpus, evaluate it, and map it in 2-D.

The key exercise of section 5.3's word half: learn word vectors from raw text
(Python's own docs and the standard library's docstrings and comments), then
see what they learned: similarity and analogy scores on hand-made sets, each
probe word's neighbours, and t-SNE / UMAP maps.

    python -m hubkit.embeddings.train --out runs/w2v                       # pydoc, ~1 min
    python -m hubkit.embeddings.train --corpus python --out runs/w2v-py    # ~0.5M words
    python -m hubkit.embeddings.train --corpus my_texts/ --mode cbow --out runs/mine
    python -m hubkit.embeddings.train --epochs 1 --dim 16 --no-plots --out /tmp/tiny  # seconds

--corpus is "pydoc", "stdlib", "python" (both) or a folder of .txt/.md/.rst/.py
files (hubkit.embeddings.corpus says how text becomes words). The run writes
vectors.txt (word2vec text format: gensim's KeyedVectors.load_word2vec_format
reads it), evaluation.json and evaluation.md (scores, a random-vector
baseline, neighbours), tsne.png and umap.png (UMAP needs umap-learn:
pip install 'hubkit-learn[umap]'; without it, one line says it was skipped)
and metrics.jsonl. --glove also fits GloVe (hubkit.embeddings.glove) on the
same corpus and scores it beside word2vec.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

from hubkit import runlog
from hubkit.embeddings import corpus as corpora
from hubkit.embeddings import evaluate, glove, trainer
from hubkit.embeddings.word2vec import Word2VecConfig

_HELP = {"mode": "skipgram or cbow", "dim": "vector size", "window": "largest context distance",
         "negative": "negative words per example", "sample": "subsampling threshold (0: off)",
         "alpha": "first learning rate", "min_alpha": "last learning rate",
         "epochs": "passes over the corpus", "ns_exponent": "noise distribution power",
         "table_size": "noise table slots", "min_count": "drop rarer words",
         "seed": "seeds vectors and generators", "threads": "C++ trainer threads"}


def build_parser() -> argparse.ArgumentParser:
    p = runlog.parser("python -m hubkit.embeddings.train", __doc__, "w2v")
    p.add_argument("--corpus", default="pydoc",
                   help="pydoc, stdlib, python (both) or a folder of text files")
    p.add_argument("--max-words", type=int, default=None, help="use only the first N words")
    p.add_argument("--backend", choices=trainer.BACKENDS, default="cpp",
                   help="cpp (threads, fast) or reference (NumPy, one thread, slow)")
    for f in dataclasses.fields(Word2VecConfig):
        flag = "--" + f.name.replace("_", "-")
        kind = type(f.default)
        p.add_argument(flag, type=kind, default=f.default, help=_HELP[f.name] +
                       f" (default {f.default})", **({"choices": ["skipgram", "cbow"]}
                                                     if f.name == "mode" else {}))
    p.add_argument("--glove", action="store_true", help="also fit GloVe and score it")
    p.add_argument("--glove-epochs", type=int, default=5, help="GloVe AdaGrad epochs")
    p.add_argument("--no-plots", action="store_true", help="skip the t-SNE and UMAP maps")
    return p


def config(args: argparse.Namespace) -> Word2VecConfig:
    return Word2VecConfig(**{f.name: getattr(args, f.name)
                             for f in dataclasses.fields(Word2VecConfig)})


def train_word2vec(c: corpora.Corpus, cfg: Word2VecConfig, backend: str, args,
                   track: runlog.Tracker) -> tuple[trainer.Word2VecModel, float]:
    """Train with a progress line (words, loss, lr, words/s, ETA); returns (model, seconds)."""
    total = cfg.epochs * len(c.ids)
    start = time.monotonic()
    with runlog.Progress(total, "words", enabled=not args.quiet, tracker=track) as bar:
        def on_chunk(rec: dict) -> None:
            bar.update(rec["words"] - bar.n, epoch=rec["epoch"], loss=rec["loss"], lr=rec["lr"],
                       words_per_s=rec["words_per_s"])

        model = trainer.train(c, cfg, backend, on_chunk)
    return model, time.monotonic() - start


def train_glove(c: corpora.Corpus, args, track: runlog.Tracker) -> glove.GloVeModel:
    cfg = glove.GloVeConfig(dim=args.dim, epochs=args.glove_epochs, seed=args.seed)
    with runlog.Progress(cfg.epochs, "glove epoch", enabled=not args.quiet,
                         tracker=track.prefixed("glove/")) as bar:
        return glove.train(c, cfg, on_epoch=lambda epoch, loss: bar.update(loss=loss))


def markdown(report: dict) -> str:
    """evaluation.md: the scores as tables, then each probe word's neighbours."""
    lines = [f"# word2vec on `{report['corpus']['source']}`", "",
             f"{report['corpus']['tokens']:,} words, vocabulary {report['corpus']['vocab']:,}; "
             f"{report['config']['mode']}, dim {report['config']['dim']}, "
             f"{report['config']['epochs']} epochs, {report['words_per_s']:,.0f} words/s "
             f"({report['backend']}, {report['config']['threads']} threads).", "",
             "| vectors | similarity (Spearman) | analogies (top-1) |", "| --- | --- | --- |"]
    base = report["baseline"]
    lines.append(f"| random (mean of {base['seeds']}) | {base['similarity_mean']:.3f} "
                 f"± {base['similarity_std']:.3f} | {base['analogies_mean']:.3f} |")
    for name, res in report["results"].items():
        lines.append(f"| {name} | {res['similarity']['spearman']:.3f} "
                     f"({res['similarity']['pairs']} pairs) | "
                     f"{res['analogies']['all']['accuracy']:.3f} "
                     f"({res['analogies']['all']['asked']} asked) |")
    lines += ["", "Analogies by relation (word2vec): " + ", ".join(
        f"{k} {v['right']}/{v['asked']}" for k, v in report["results"]["word2vec"]["analogies"]
        .items() if k != "all"), "", "## Nearest neighbours", ""]
    for w, near in report["results"]["word2vec"]["neighbours"].items():
        lines.append(f"- **{w}**: {', '.join(near)}")
    lines += ["", "## What this can show", "", evaluate.__doc__.split("(the honest note). ")[1]
              .split("\n\nShape legend")[0].replace("\n", " ")]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    cfg = config(args)  # bad settings stop here, before anything is written
    outputs = runlog.Outputs(args.out, args._run_name)
    c = corpora.load(args.corpus, cfg.min_count, args.max_words)
    track = runlog.tracker(args, outputs)
    model, seconds = train_word2vec(c, cfg, args.backend, args, track)
    evaluate.save_word2vec_format(outputs.path("vectors.txt"), model.words, model.w_in)
    results = {"word2vec": evaluate.evaluate(model.words, model.w_in)}
    if args.glove:
        results["glove"] = evaluate.evaluate(c.words, train_glove(c, args, track).vectors)
    report = {"corpus": {"source": str(args.corpus), "tokens": int(len(c.ids)),
                         "vocab": len(c.words), "sentences": int(len(c.offsets) - 1)},
              "config": dataclasses.asdict(cfg), "backend": args.backend,
              "seconds": round(seconds, 2), "words_per_s": cfg.epochs * len(c.ids) / seconds,
              "final_loss": model.history[-1]["loss"] if model.history else None,
              "results": results, "baseline": evaluate.baseline(c.words, cfg.dim)}
    track.log(cfg.epochs * len(c.ids), similarity=results["word2vec"]["similarity"]["spearman"],
              analogies=results["word2vec"]["analogies"]["all"]["accuracy"])
    outputs.path("evaluation.json").write_text(json.dumps(report, indent=1) + "\n")
    outputs.path("evaluation.md").write_text(markdown(report))
    if not args.no_plots:
        written, notes = _plots(model, outputs)
        outputs.add(written)
        for note in notes:
            print(note)
    track.close()
    print(f"similarity {results['word2vec']['similarity']['spearman']:.3f}  analogies "
          f"{results['word2vec']['analogies']['all']['accuracy']:.3f}  "
          f"({report['words_per_s']:,.0f} words/s)")
    outputs.report()


def _plots(model: trainer.Word2VecModel, outputs: runlog.Outputs):
    from hubkit.embeddings import plots

    with runlog.quiet_third_party():
        return plots.plot_maps(model.words, model.w_in, outputs.folder())


if __name__ == "__main__":
    runlog.run_main(main)
