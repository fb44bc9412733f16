"""word2vec training speed: hubkit's C++ trainer vs gensim, and the NumPy reference for scale.

Run:  python -m pytest benchmarks/bench_word2vec.py \
          --benchmark-json benchmarks/results/word2vec-cpu-DATE.json
Then: python -m benchmarks.bench_word2vec benchmarks/results/word2vec-cpu-DATE.json

Same corpus, same threads, same settings for both: Python's documentation
topics (`hubkit.embeddings.corpus.load("pydoc")`, ~60k words after dropping
words seen under 5 times; gensim gets the same sentences), 2 threads (gensim's
workers=2), dim 100, window 5, negative 5, sample 1e-3, alpha 0.025 -> 1e-4,
5 epochs, skip-gram and CBOW, no loss computed (gensim's default). Only
training is timed: the vocabulary, noise table and initial vectors are built
in each round's setup (gensim: `build_vocab`; hubkit: `trainer.prepare`).
words/s = epochs x corpus words / median seconds. The reference trains one
epoch over the first 3,000 words, beside the C++ trainer on the same slice.

The machine is shared: every benchmark records the load average and the CPU
share other processes took (`extra_info["load"]`); ratios from one run
compare like with like, absolute words/s do not travel.

Measured 2026-12-02 on the shared 2-core machine, busy (load average 19
during the run; results/word2vec-speed-cpu-2026-12-02.json), median of 3:
skip-gram hubkit-cpp 3.83 s vs gensim 6.91 s (1.80x; 77,900 vs 43,200
words/s); CBOW 1.02 s vs 2.04 s (2.01x; 293,500 vs 146,000 words/s). The
reference: 933 words/s on the 3k-word slice, 142x slower than the C++
trainer there.
"""

from __future__ import annotations

import functools
import json
import sys

import pytest

from benchmarks.conftest import ratios, record
from hubkit.embeddings import corpus, trainer, word2vec

SETTINGS = {"dim": 100, "window": 5, "negative": 5, "sample": 1e-3, "alpha": 0.025,
            "min_alpha": 1e-4, "epochs": 5, "min_count": 5, "threads": 2}
RAN = {"hubkit-cpp": "hubkit.embeddings.trainer (backend='cpp'): hubkit._C word2vec_train, "
                     "std::thread Hogwild",
       "gensim": "gensim.models.Word2Vec.train (Cython, workers threads)",
       "hubkit-reference": "hubkit.embeddings.trainer (backend='reference'): NumPy, one thread"}


@functools.cache
def data(max_words: int | None = None) -> corpus.Corpus:
    return corpus.load("pydoc", SETTINGS["min_count"], max_words)


def hubkit_round(mode: str, backend: str, c: corpus.Corpus, epochs: int):
    cfg = word2vec.Word2VecConfig(mode=mode, **{**SETTINGS, "epochs": epochs})

    def setup():
        return (trainer.prepare(c, cfg, backend, compute_loss=False),), {}

    return setup, trainer.run


def gensim_round(mode: str, c: corpus.Corpus, epochs: int):
    gensim_models = pytest.importorskip("gensim.models")
    sentences = c.sentences()

    def setup():
        model = gensim_models.Word2Vec(
            vector_size=SETTINGS["dim"], window=SETTINGS["window"], negative=SETTINGS["negative"],
            sample=SETTINGS["sample"], alpha=SETTINGS["alpha"], min_alpha=SETTINGS["min_alpha"],
            min_count=1, workers=SETTINGS["threads"], sg=int(mode == "skipgram"), hs=0, seed=1)
        model.build_vocab(sentences)
        return (model,), {}

    def run(model):
        model.train(sentences, total_examples=len(sentences), epochs=epochs)

    return setup, run


@pytest.mark.parametrize("mode", ["skipgram", "cbow"])
@pytest.mark.parametrize("provider", ["hubkit-cpp", "gensim"])
def test_train(benchmark, provider, mode):
    c = data()
    epochs = SETTINGS["epochs"]
    setup, fn = (gensim_round(mode, c, epochs) if provider == "gensim"
                 else hubkit_round(mode, "cpp", c, epochs))
    record(benchmark, op="word2vec", provider=provider, shape=f"{mode} pydoc 2 threads",
           ran=RAN[provider], words=epochs * len(c.ids), settings={**SETTINGS, "mode": mode})
    benchmark.pedantic(fn, setup=setup, rounds=3, iterations=1, warmup_rounds=0)


@pytest.mark.parametrize("provider", ["hubkit-cpp", "hubkit-reference"])
def test_reference_for_scale(benchmark, provider):
    c = data(3000)
    setup, fn = hubkit_round("skipgram", provider.removeprefix("hubkit-"), c, 1)
    record(benchmark, op="word2vec", provider=provider, shape="skipgram first 3k words 1 epoch",
           ran=RAN[provider], words=len(c.ids), settings={**SETTINGS, "epochs": 1})
    benchmark.pedantic(fn, setup=setup, rounds=1, iterations=1, warmup_rounds=0)


def words_per_second(path: str) -> list[str]:
    """words/s of each provider from a result file (median time)."""
    lines = []
    for b in json.load(open(path))["benchmarks"]:
        info = b["extra_info"]
        lines.append(f"{b['group']}: {info['provider']} {info['words'] / b['stats']['median']:,.0f}"
                     f" words/s (load {info['load']['loadavg_before'][0]:.1f})")
    return lines


if __name__ == "__main__":
    print("\n".join(ratios(sys.argv[1]) + words_per_second(sys.argv[1])))
