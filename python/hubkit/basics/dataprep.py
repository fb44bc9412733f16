"""A pandas preprocessing pipeline: clean, encode, scale and split a table.

Each step is a small function DataFrame -> DataFrame, and `preprocess` chains
them, so every step can be tested and reused on its own:

1. `drop_duplicates` and rows whose target is missing;
2. `fill_missing`: numeric columns get their median, text columns their mode;
3. `one_hot_encode` the categorical (object/category) columns;
4. `train_test_split_frame` before scaling, and `standardize` with the
   *training* means and stds only (computing them on all rows leaks the test set).

The demo table is scikit-learn's shipped wine data, with a categorical column and
holes punched at random so every step has work to do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd


def wine_frame(missing: float = 0.05, seed: int = 0) -> pd.DataFrame:
    """scikit-learn's wine data as a DataFrame with a text `region` column and NaN holes."""
    from sklearn.datasets import load_wine

    df = load_wine(as_frame=True).frame
    rng = np.random.default_rng(seed)
    df.insert(0, "region", rng.choice(["north", "south", "coast"], size=len(df)))
    for col in ["alcohol", "magnesium", "region"]:
        df.loc[rng.random(len(df)) < missing, col] = None
    return df


def fill_missing(df: pd.DataFrame) -> pd.DataFrame:
    """Numeric NaNs -> the column median; text NaNs -> the most frequent value."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype.kind in "fiu":
            out[col] = out[col].fillna(out[col].median())
        elif out[col].isna().any():
            out[col] = out[col].fillna(out[col].mode().iloc[0])
    return out


def one_hot_encode(df: pd.DataFrame, exclude: tuple[str, ...] = ()) -> pd.DataFrame:
    """Replace each text column by 0/1 columns named `col=value`."""
    import pandas as pd

    cats = [c for c in df.columns if df[c].dtype.kind == "O" and c not in exclude]
    return pd.get_dummies(df, columns=cats, prefix_sep="=", dtype=float)


def train_test_split_frame(df: pd.DataFrame, test_fraction: float = 0.25,
                           seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A shuffled (train, test) split of the rows."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction: expected in (0, 1), got {test_fraction!r}")
    order = np.random.default_rng(seed).permutation(len(df))
    cut = int(round(len(df) * (1 - test_fraction)))
    return df.iloc[order[:cut]], df.iloc[order[cut:]]


def standardize(train: pd.DataFrame, test: pd.DataFrame,
                columns: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scale `columns` of both frames by the training mean and std."""
    mean, std = train[columns].mean(), train[columns].std(ddof=0).replace(0, 1.0)
    train, test = train.copy(), test.copy()
    train[columns] = (train[columns] - mean) / std
    test[columns] = (test[columns] - mean) / std
    return train, test


def preprocess(df: pd.DataFrame, target: str, test_fraction: float = 0.25,
               seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The whole pipeline: (train, test) frames ready for a model, target column untouched.

    Example:
        >>> train, test = preprocess(wine_frame(), target="target")
        >>> bool(train.notna().all().all()), len(train) + len(test) <= 178
        (True, True)
        >>> abs(float(train["alcohol"].mean())) < 1e-9
        True
    """
    df = df.drop_duplicates().dropna(subset=[target])
    df = one_hot_encode(fill_missing(df), exclude=(target,))
    train, test = train_test_split_frame(df, test_fraction, seed)
    numeric = [c for c in df.columns if c != target and "=" not in c]
    return standardize(train, test, numeric)
