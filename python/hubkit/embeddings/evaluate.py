"""Judge word vectors: similarity against hand scores, analogies, nearest neighbours; save them.

The test sets are hand-made for a corpus about Python (its docs, docstrings
and comments): the standard sets (WordSim-353, SimLex-999, Google's analogies)
ask about kings, capitals and currencies, which such a corpus hardly
mentions. Scores (0-10) are one person's judgement, written before any
model was trained.

What a corpus this small can show (the honest note). With 0.06-0.5M words
(Google's vectors saw 100 billion), most words occur a few dozen times: the
vectors learn topic and syntax well (plurals, "raise/raises", words used in
the same kind of sentence) and meaning only roughly. The sets are small (42
pairs, 768 analogies from 64 word pairs), and written by one person: random
vectors score a Spearman correlation of 0 +- 0.2 on them (`baseline`), so only
differences well above that mean anything, and the scores say how these
vectors do on Python's vocabulary, not on English. Antonyms come out
*similar* (true/false, read/write share their contexts): a known property of
distributional vectors, not a bug.

Shape legend: V vocabulary, D vector size, N words asked about.
"""

from __future__ import annotations

from itertools import permutations
from pathlib import Path

import numpy as np

# (word, word, relatedness 0-10)
SIMILARITY = [
    ("int", "integer", 9.0), ("str", "string", 9.0), ("dict", "dictionary", 9.5),
    ("dictionary", "mapping", 8.0), ("list", "tuple", 7.5), ("list", "sequence", 7.0),
    ("error", "exception", 8.5), ("function", "method", 8.0), ("argument", "parameter", 8.5),
    ("file", "filename", 7.0), ("path", "filename", 7.0), ("module", "package", 8.0),
    ("bytes", "bytearray", 8.0), ("float", "integer", 7.0), ("class", "instance", 6.5),
    ("thread", "process", 7.0), ("socket", "connection", 7.0), ("server", "client", 6.5),
    ("key", "value", 6.0), ("read", "write", 5.5), ("encode", "decode", 6.0),
    ("true", "false", 5.5), ("error", "warning", 6.0), ("directory", "file", 6.0),
    ("string", "character", 6.5), ("import", "module", 6.5), ("loop", "iteration", 7.5),
    ("lock", "thread", 6.0), ("email", "message", 6.0), ("header", "request", 5.0),
    ("socket", "tuple", 1.5), ("thread", "decimal", 1.0), ("integer", "directory", 0.5),
    ("widget", "decimal", 0.5), ("http", "float", 1.0), ("turtle", "exception", 0.5),
    ("tuple", "email", 1.0), ("server", "fraction", 0.5), ("lock", "encoding", 1.0),
    ("window", "integer", 0.5), ("zero", "socket", 0.5), ("parser", "turtle", 0.5),
]

# Related pairs per relation; analogies are every ordered choice of two pairs in a group.
ANALOGY_GROUPS = {
    "plural": [("file", "files"), ("string", "strings"), ("object", "objects"),
               ("method", "methods"), ("class", "classes"), ("function", "functions"),
               ("argument", "arguments"), ("value", "values"), ("module", "modules"),
               ("line", "lines"), ("name", "names"), ("key", "keys"), ("item", "items"),
               ("character", "characters"), ("error", "errors"), ("thread", "threads")],
    "third_person": [("return", "returns"), ("raise", "raises"), ("call", "calls"),
                     ("create", "creates"), ("contain", "contains"), ("read", "reads"),
                     ("write", "writes"), ("add", "adds"), ("remove", "removes"),
                     ("use", "uses"), ("define", "defines"), ("accept", "accepts")],
    "past": [("return", "returned"), ("raise", "raised"), ("call", "called"),
             ("create", "created"), ("pass", "passed"), ("use", "used"),
             ("define", "defined"), ("add", "added"), ("remove", "removed"),
             ("close", "closed"), ("open", "opened"), ("specify", "specified")],
    "abbreviation": [("int", "integer"), ("str", "string"), ("dict", "dictionary"),
                     ("bool", "boolean"), ("arg", "argument"), ("args", "arguments"),
                     ("dir", "directory"), ("attr", "attribute"), ("obj", "object"),
                     ("len", "length"), ("msg", "message"), ("num", "number")],
    "opposite": [("true", "false"), ("read", "write"), ("first", "last"), ("get", "set"),
                 ("input", "output"), ("encode", "decode"), ("upper", "lower"),
                 ("client", "server"), ("before", "after"), ("start", "stop"),
                 ("open", "close"), ("min", "max")],
}

# Words whose neighbours the report lists.
PROBES = ["list", "dict", "integer", "exception", "thread", "socket", "file", "true",
          "returns", "unicode"]


def analogies(groups: dict = ANALOGY_GROUPS) -> list[tuple[str, str, str, str, str]]:
    """(relation, a, b, c, d): "a is to b as c is to d", for every two pairs of a group.

    Example:
        >>> analogies({"plural": [("file", "files"), ("key", "keys")]})
        [('plural', 'file', 'files', 'key', 'keys'), ('plural', 'key', 'keys', 'file', 'files')]
    """
    return [(rel, a, b, c, d) for rel, pairs in groups.items()
            for (a, b), (c, d) in permutations(pairs, 2)]


def normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), float64 (V, D)."""
    v = np.asarray(vectors, dtype=np.float64)
    norm = np.linalg.norm(v, axis=1, keepdims=True)
    return v / np.where(norm > 0, norm, 1.0)


def ranks(x: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties sharing their mean rank (as scipy.stats.rankdata)."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="stable")
    r = np.empty(len(x))
    r[order] = np.arange(1, len(x) + 1)
    for value in np.unique(x):
        tie = x == value
        r[tie] = r[tie].mean()
    return r


def spearman(a, b) -> float:
    """Spearman's rank correlation: Pearson's correlation of the ranks.

    Example:
        >>> round(spearman([1, 2, 3, 4], [10, 20, 40, 30]), 6)
        0.8
    """
    ra, rb = ranks(a), ranks(b)
    return float(np.corrcoef(ra, rb)[0, 1])


def similarity(words: list[str], vectors: np.ndarray, pairs=SIMILARITY) -> dict:
    """Spearman correlation of cosine similarity with the hand scores, over pairs in vocabulary."""
    index, unit = {w: i for i, w in enumerate(words)}, normalize(vectors)
    found = [(a, b, s) for a, b, s in pairs if a in index and b in index]
    cos = [float(unit[index[a]] @ unit[index[b]]) for a, b, _ in found]
    rho = spearman(cos, [s for *_, s in found]) if len(found) > 2 else float("nan")
    return {"spearman": rho, "pairs": len(found), "asked": len(pairs),
            "cosines": {f"{a}/{b}": round(c, 3) for (a, b, _), c in zip(found, cos, strict=True)}}


def solve(unit: np.ndarray, index: dict, a: str, b: str, c: str) -> int:
    """3CosAdd (Mikolov et al. 2013): the word nearest to b - a + c, other than a, b and c."""
    query = unit[index[b]] - unit[index[a]] + unit[index[c]]
    scores = unit @ query  # (V,)
    scores[[index[a], index[b], index[c]]] = -np.inf
    return int(np.argmax(scores))


def analogy_accuracy(words: list[str], vectors: np.ndarray, groups=ANALOGY_GROUPS) -> dict:
    """Top-1 accuracy per relation (and overall) over analogies whose four words are known."""
    index, unit = {w: i for i, w in enumerate(words)}, normalize(vectors)
    out, right_all, asked_all = {}, 0, 0
    for rel in groups:
        asked = [q for q in analogies({rel: groups[rel]}) if all(w in index for w in q[1:])]
        right = sum(words[solve(unit, index, a, b, c)] == d for _, a, b, c, d in asked)
        out[rel] = {"accuracy": right / len(asked) if asked else float("nan"),
                    "right": right, "asked": len(asked)}
        right_all, asked_all = right_all + right, asked_all + len(asked)
    out["all"] = {"accuracy": right_all / asked_all if asked_all else float("nan"),
                  "right": right_all, "asked": asked_all}
    return out


def neighbours(words: list[str], vectors: np.ndarray, probes=PROBES, k: int = 8) -> dict:
    """The k nearest words (cosine) to each probe in the vocabulary."""
    index, unit = {w: i for i, w in enumerate(words)}, normalize(vectors)
    out = {}
    for p in (p for p in probes if p in index):
        scores = unit @ unit[index[p]]
        scores[index[p]] = -np.inf
        out[p] = [words[i] for i in np.argsort(-scores)[:k]]
    return out


def evaluate(words: list[str], vectors: np.ndarray) -> dict:
    """Similarity, analogies and neighbours of one set of vectors."""
    return {"similarity": similarity(words, vectors), "analogies": analogy_accuracy(words, vectors),
            "neighbours": neighbours(words, vectors)}


def baseline(words: list[str], dim: int, seeds: int = 10) -> dict:
    """The same scores for random vectors, mean and spread over `seeds` draws: "no learning"."""
    sims, accs = [], []
    for seed in range(seeds):
        vectors = np.random.default_rng(seed).standard_normal((len(words), dim))
        sims.append(similarity(words, vectors)["spearman"])
        accs.append(analogy_accuracy(words, vectors)["all"]["accuracy"])
    return {"similarity_mean": float(np.mean(sims)), "similarity_std": float(np.std(sims)),
            "analogies_mean": float(np.mean(accs)), "seeds": seeds}


def save_word2vec_format(path: str | Path, words: list[str], vectors: np.ndarray) -> Path:
    """The word2vec text format: "V D", then one line "word x1 ... xD" per word.

    gensim reads it with `KeyedVectors.load_word2vec_format(path, binary=False)`.
    """
    path = Path(path)
    with path.open("w", encoding="utf-8") as f:
        f.write(f"{len(words)} {vectors.shape[1]}\n")
        for w, v in zip(words, vectors, strict=True):
            f.write(w + " " + " ".join(f"{x:.6g}" for x in v) + "\n")
    return path


def load_word2vec_format(path: str | Path) -> tuple[list[str], np.ndarray]:
    """(words, float32 (V, D)) from a word2vec text file."""
    with Path(path).open(encoding="utf-8") as f:
        v, d = (int(x) for x in f.readline().split())
        rows = [line.rstrip("\n").split(" ") for line in f]
    if len(rows) != v or any(len(r) != d + 1 for r in rows):
        raise ValueError(f"{path}: expected {v} lines of a word and {d} numbers")
    return [r[0] for r in rows], np.array([r[1:] for r in rows], dtype=np.float32)
