"""Word vectors in 2-D: t-SNE (scikit-learn) and UMAP (umap-learn, optional), saved as PNG.

Both keep neighbours near each other and give up global distances: clusters
mean something, the gaps between clusters and the axes do not. The words
shown are the evaluation sets' words (coloured by relation) plus the most
frequent content words.

Shape legend: N words shown, D vector size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hubkit.embeddings.evaluate import ANALOGY_GROUPS


def pick_words(words: list[str], n_frequent: int = 120, skip: int = 60) -> list[tuple[str, str]]:
    """[(word, group)]: every analogy word in the vocabulary, then frequent words after the
    `skip` most frequent (mostly function words), group "frequent"."""
    index = set(words)
    chosen: dict[str, str] = {}
    for rel, pairs in ANALOGY_GROUPS.items():
        for pair in pairs:
            for w in pair:
                if w in index:
                    chosen.setdefault(w, rel)
    for w in words[skip:skip + n_frequent]:
        chosen.setdefault(w, "frequent")
    return list(chosen.items())


def tsne_2d(vectors: np.ndarray, seed: int = 0) -> np.ndarray:
    """(N, D) -> (N, 2) by t-SNE on cosine distances."""
    from sklearn.manifold import TSNE

    perplexity = min(30.0, max(2.0, (len(vectors) - 1) / 3))
    return TSNE(2, perplexity=perplexity, metric="cosine", init="pca",
                random_state=seed).fit_transform(vectors)


def umap_2d(vectors: np.ndarray, seed: int = 0) -> np.ndarray:
    """(N, D) -> (N, 2) by UMAP on cosine distances (needs umap-learn)."""
    import umap

    return umap.UMAP(n_components=2, metric="cosine", n_neighbors=min(15, len(vectors) - 1),
                     random_state=seed).fit_transform(vectors)


def scatter(points: np.ndarray, labels: list[tuple[str, str]], title: str, path: Path) -> Path:
    """A labelled scatter plot, one colour per group, written as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 9))
    groups = sorted({g for _, g in labels})
    for k, group in enumerate(groups):
        idx = [i for i, (_, g) in enumerate(labels) if g == group]
        ax.scatter(points[idx, 0], points[idx, 1], s=10, color=f"C{k}", label=group)
        for i in idx:
            ax.annotate(labels[i][0], points[i], fontsize=7, color=f"C{k}", alpha=0.85)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_maps(words: list[str], vectors: np.ndarray, folder: Path, name: str = "word2vec",
              seed: int = 0) -> tuple[list[Path], list[str]]:
    """t-SNE and UMAP maps under `folder`; returns (files written, one-line notes on skips)."""
    labels = pick_words(words)
    index = {w: i for i, w in enumerate(words)}
    chosen = vectors[[index[w] for w, _ in labels]]
    written, notes = [], []
    points = tsne_2d(chosen, seed)
    written.append(scatter(points, labels, f"{name}: t-SNE of {len(labels)} words",
                           folder / "tsne.png"))
    try:
        points = umap_2d(chosen, seed)
    except ImportError:
        notes.append("UMAP plot skipped: umap-learn is not installed "
                     "(pip install 'hubkit-learn[umap]')")
    else:
        written.append(scatter(points, labels, f"{name}: UMAP of {len(labels)} words",
                               folder / "umap.png"))
    return written, notes
