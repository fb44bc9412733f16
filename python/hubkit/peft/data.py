"""Small labeled text sets for fine-tuning: a built-in offline set and common file loaders.

`sentiment_dataset` is built by hubkit itself from word lists and templates
(including negations such as "not good"), so fine-tuning runs offline and in CI.
It is a synthetic toy set, not a benchmark; accuracies on it only compare
methods with each other. The loaders read the usual public formats:

* CSV / TSV with a text column and a label column (`load_text_label_file`);
* SST-2 (GLUE) TSV: header `sentence<TAB>label` (`load_sst2_tsv`);
* the IMDB folder layout: `<root>/<split>/pos/*.txt`, `<root>/<split>/neg/*.txt`
  (`load_imdb_folder`).

Every loader returns a list of (text, label) pairs with integer labels.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

POSITIVE = ["good", "great", "wonderful", "delightful", "excellent", "charming", "moving",
            "brilliant", "enjoyable", "superb", "fun", "beautiful", "clever", "warm"]
NEGATIVE = ["bad", "awful", "boring", "dull", "terrible", "tedious", "clumsy", "weak",
            "disappointing", "bland", "painful", "messy", "shallow", "forgettable"]
SUBJECTS = ["the movie", "this film", "the acting", "the plot", "the story", "the ending",
            "the soundtrack", "the cast", "the dialogue", "this book", "the show", "the pacing"]
TEMPLATES = ["{s} was {a}.", "{s} is {a} from start to finish.", "i thought {s} was {a}.",
             "honestly, {s} felt {a}.", "{s} turned out {a}.",
             "what a {a} experience; {s} was {a}."]
NEGATED = ["{s} was not {a}.", "{s} is never {a}.", "i would not call {s} {a}."]


def sentiment_dataset(n: int = 400, seed: int = 0) -> list[tuple[str, int]]:
    """n labeled sentences (1 positive, 0 negative), balanced, built offline.

    A quarter of the sentences negate an adjective ("not good" is negative), so
    a bag-of-words over adjectives alone cannot reach full accuracy.

    Example:
        >>> data = sentiment_dataset(4, seed=1)
        >>> len(data), sorted({label for _, label in data})
        (4, [0, 1])
    """
    rng = random.Random(seed)
    out = []
    for i in range(n):
        label = i % 2
        negate = rng.random() < 0.25
        words = POSITIVE if (label == 1) != negate else NEGATIVE
        template = rng.choice(NEGATED if negate else TEMPLATES)
        out.append((template.format(s=rng.choice(SUBJECTS), a=rng.choice(words)), label))
    rng.shuffle(out)
    return out


def _label(value: str, path: Path, row: int) -> int:
    value = value.strip().lower()
    names = {"positive": 1, "pos": 1, "negative": 0, "neg": 0}
    if value in names:
        return names[value]
    try:
        return int(float(value))
    except ValueError:
        raise ValueError(f"path: {path} row {row}: label {value!r} is not an integer or "
                         "positive/negative") from None


def load_text_label_file(path: str | Path, text_column: str = "text",
                         label_column: str = "label") -> list[tuple[str, int]]:
    """Rows of a CSV (or TSV, by extension) with a header naming the text and label columns."""
    path = Path(path)
    delimiter = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f, delimiter=delimiter, quoting=(
            csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL))
        fields = reader.fieldnames or []
        for column in (text_column, label_column):
            if column not in fields:
                raise ValueError(f"path: {path} has columns {fields}, no {column!r}")
        return [(row[text_column], _label(row[label_column], path, i))
                for i, row in enumerate(reader, start=2)]


def load_sst2_tsv(path: str | Path) -> list[tuple[str, int]]:
    """GLUE SST-2 `train.tsv` / `dev.tsv`: `sentence<TAB>label`, labels 0/1."""
    return load_text_label_file(path, text_column="sentence", label_column="label")


def load_imdb_folder(root: str | Path, split: str = "train") -> list[tuple[str, int]]:
    """The IMDB reviews layout: one review per .txt under <root>/<split>/{pos,neg}/."""
    base = Path(root) / split
    out = []
    for name, label in (("neg", 0), ("pos", 1)):
        folder = base / name
        if not folder.is_dir():
            raise ValueError(f"root: expected a folder {folder} (IMDB layout)")
        for file in sorted(folder.glob("*.txt")):
            out.append((file.read_text(encoding="utf-8").replace("<br />", " ").strip(), label))
    return out


def split(data: list, test_fraction: float = 0.25) -> tuple[list, list]:
    """(train, test): the last `test_fraction` of the (already shuffled) list is the test set."""
    n_test = max(1, int(len(data) * test_fraction))
    return data[:-n_test], data[-n_test:]
