"""A matrix-factorization recommender and a MovieLens-format ratings loader.

Each user u and item i get a k-dimensional vector; the predicted rating is
mu + b_u + b_i + p_u . q_i (global mean, two biases, a dot product). The vectors
are fitted to the observed ratings only, by stochastic gradient descent on the
squared error plus an L2 penalty (Koren, Bell & Volinsky, "Matrix Factorization
Techniques for Recommender Systems", IEEE Computer 2009). It is a truncated SVD
of a matrix that is mostly missing.

The loader reads the three layouts GroupLens ships:
  * MovieLens 100K `u.data`:      user<TAB>item<TAB>rating<TAB>timestamp
  * MovieLens 1M/10M `ratings.dat`: user::item::rating::timestamp
  * MovieLens latest `ratings.csv`: a header `userId,movieId,rating,timestamp`, then rows
No ratings ship with hubkit: `synthetic_ratings` makes an honest stand-in (a
known low-rank taste model plus noise, observed at random), labelled as such.

Shapes: N ratings; users U, items I; P (U, k), Q (I, k).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class Ratings:
    """Observed ratings, ids mapped to dense indices.

    Attributes:
        users: (N,) user index in [0, n_users).
        items: (N,) item index in [0, n_items).
        values: (N,) float ratings.
        user_ids, item_ids: the original ids, so user_ids[users[j]] is the file's id.
    """

    users: np.ndarray
    items: np.ndarray
    values: np.ndarray
    user_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    item_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def n_users(self) -> int:
        return int(self.users.max()) + 1 if len(self.users) else 0

    @property
    def n_items(self) -> int:
        return int(self.items.max()) + 1 if len(self.items) else 0

    def split(self, test_fraction: float, seed: int = 0) -> tuple[Ratings, Ratings]:
        """A random (train, test) split of the ratings, indices unchanged."""
        order = np.random.default_rng(seed).permutation(len(self.values))
        cut = int(round(len(order) * (1 - test_fraction)))
        pick = [order[:cut], order[cut:]]
        return tuple(Ratings(self.users[p], self.items[p], self.values[p], self.user_ids,
                             self.item_ids) for p in pick)  # type: ignore[return-value]


def _parse_rows(path: Path) -> np.ndarray:
    """(N, 3) float array of (user, item, rating) from any of the three layouts."""
    lines = [ln for ln in path.read_text(encoding="latin-1").splitlines() if ln.strip()]
    if not lines:
        raise ValueError(f"path: {path} holds no ratings")
    sep = "::" if "::" in lines[0] else "," if "," in lines[0] else "\t"
    if lines[0].lower().startswith("userid"):
        lines = lines[1:]  # the csv header
    rows = []
    for n, line in enumerate(lines, start=1):
        parts = line.split(sep)
        try:
            rows.append((float(parts[0]), float(parts[1]), float(parts[2])))
        except (IndexError, ValueError):
            raise ValueError(f"path: {path} line {n} is not user{sep}item{sep}rating: "
                             f"{line!r}") from None
    return np.array(rows)


def load_movielens(path: str | Path) -> Ratings:
    """Read a MovieLens ratings file (u.data, ratings.dat or ratings.csv).

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "u.data"
        >>> _ = p.write_text("196\\t242\\t3\\t881250949\\n186\\t302\\t3\\t891717742\\n")
        >>> r = load_movielens(p); r.n_users, r.n_items, r.values.tolist()
        (2, 2, [3.0, 3.0])
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"path: {path} is not a file")
    rows = _parse_rows(path)
    user_ids, users = np.unique(rows[:, 0].astype(np.int64), return_inverse=True)
    item_ids, items = np.unique(rows[:, 1].astype(np.int64), return_inverse=True)
    return Ratings(users, items, rows[:, 2], user_ids, item_ids)


def synthetic_ratings(n_users: int = 200, n_items: int = 150, rank: int = 3,
                      density: float = 0.15, noise: float = 0.3, seed: int = 0) -> Ratings:
    """Generated ratings, not real ones: a rank-`rank` taste model, 1-5 stars, seen at random.

    Example:
        >>> r = synthetic_ratings(20, 10, density=0.5)
        >>> bool(r.values.min() >= 1 and r.values.max() <= 5)
        True
    """
    rng = np.random.default_rng(seed)
    p = rng.standard_normal((n_users, rank))
    q = rng.standard_normal((n_items, rank))
    full = 3.5 + 0.5 * rng.standard_normal(n_items) + p @ q.T / np.sqrt(rank)  # (U, I)
    seen = rng.random((n_users, n_items)) < density
    users, items = np.nonzero(seen)
    stars = np.clip(np.round(full[users, items] + noise * rng.standard_normal(len(users))), 1, 5)
    return Ratings(users, items, stars, np.arange(n_users), np.arange(n_items))


@dataclass
class MatrixFactorization:
    """mu + b_u + b_i + P_u . Q_i, fitted by SGD on squared error with L2.

    Example:
        >>> r = synthetic_ratings(50, 40, density=0.4)
        >>> mf = MatrixFactorization(r.n_users, r.n_items, k=3)
        >>> before = mf.rmse(r); _ = mf.fit(r, epochs=10); bool(mf.rmse(r) < before)
        True
    """

    n_users: int
    n_items: int
    k: int = 8
    lr: float = 0.02
    l2: float = 0.02
    seed: int = 0

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        self.p = 0.1 * rng.standard_normal((self.n_users, self.k))
        self.q = 0.1 * rng.standard_normal((self.n_items, self.k))
        self.bu, self.bi = np.zeros(self.n_users), np.zeros(self.n_items)
        self.mu = 0.0

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """(N,) predicted ratings."""
        dots = (self.p[users] * self.q[items]).sum(axis=1)
        return self.mu + self.bu[users] + self.bi[items] + dots

    def rmse(self, r: Ratings) -> float:
        return float(np.sqrt(np.mean((self.predict(r.users, r.items) - r.values) ** 2)))

    def fit(self, r: Ratings, epochs: int = 20, seed: int = 0) -> list[float]:
        """SGD over the ratings in a new random order each epoch; returns train RMSE per epoch."""
        self.mu = float(r.values.mean())
        rng, history = np.random.default_rng(seed), []
        for _ in range(epochs):
            for j in rng.permutation(len(r.values)):
                self._sgd_step(int(r.users[j]), int(r.items[j]), float(r.values[j]))
            history.append(self.rmse(r))
        return history

    def _sgd_step(self, u: int, i: int, rating: float) -> None:
        err = rating - (self.mu + self.bu[u] + self.bi[i] + self.p[u] @ self.q[i])
        self.bu[u] += self.lr * (err - self.l2 * self.bu[u])
        self.bi[i] += self.lr * (err - self.l2 * self.bi[i])
        pu = self.p[u].copy()  # subtle: both updates must use the old P_u
        self.p[u] += self.lr * (err * self.q[i] - self.l2 * self.p[u])
        self.q[i] += self.lr * (err * pu - self.l2 * self.q[i])

    def recommend(self, user: int, seen: np.ndarray, n: int = 5) -> np.ndarray:
        """The n unseen items with the highest predicted rating for `user`."""
        scores = self.predict(np.full(self.n_items, user), np.arange(self.n_items))
        scores[seen] = -np.inf
        return np.argsort(-scores)[:n]
