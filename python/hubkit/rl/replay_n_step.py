"""n-step transitions for the replay buffers, built as transitions arrive.

With n > 1 each stored transition is (obs_t, action_t, R, obs_{t+n}, done) with
R = r_t + gamma r_{t+1} + ... + gamma^{n-1} r_{t+n-1}; the learner bootstraps
with gamma^n * max_a Q(obs_{t+n}, a) when not done (Sutton & Barto, ch. 7).
Each stream (one per vector-env copy: row i of a batched add) keeps its last
n single-step transitions here until they can be combined.

Example:
    >>> p = Pending(2, 0.5)
    >>> row = lambda r, d: (np.zeros((1, 1)), np.zeros(1), np.array([r], np.float32),
    ...                     np.zeros((1, 1)), np.array([d]))
    >>> list(p.push(row(1.0, False), np.array([False])))
    []
    >>> [float(out[2][0]) for out in p.push(row(2.0, False), np.array([False]))]
    [2.0]
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


class Pending:
    """Per-stream queues of the last single-step transitions, not yet stored."""

    def __init__(self, n_step: int, gamma: float):
        self.n_step, self.gamma = n_step, gamma
        self.queues: dict[int, list[tuple]] = {}

    def push(self, rows: tuple, truncated: np.ndarray) -> Iterator[tuple]:
        """Queue each row of a batch (row i -> stream i); yield finished n-step rows."""
        for i in range(len(rows[2])):
            queue = self.queues.setdefault(i, [])
            queue.append(tuple(field[i] for field in rows))
            if queue[-1][4]:  # terminated: every queued step gets its (shorter) exact return
                while queue:
                    yield self._combine(queue)
                    queue.pop(0)
            elif truncated[i]:
                # subtle: a time-limit cut leaves fewer than n steps to bootstrap from with
                # gamma^n; those steps are dropped rather than stored with a wrong discount.
                queue.clear()
            elif len(queue) == self.n_step:
                yield self._combine(queue)
                queue.pop(0)

    def _combine(self, queue: list[tuple]) -> tuple:
        ret = sum(self.gamma**k * float(step[2]) for k, step in enumerate(queue))
        first, last = queue[0], queue[-1]
        return (first[0][None], first[1][None], np.array([ret], np.float32), last[3][None],
                np.array([last[4]]))

    def state(self, obs_shape, obs_dtype, action_shape, action_dtype) -> dict:
        """Queued steps as flat arrays (pending_stream says which stream each belongs to)."""
        steps = [(s, step) for s, q in sorted(self.queues.items()) for step in q]
        def stack(k, shape, dtype):
            return np.array([step[k] for _, step in steps], dtype=dtype).reshape(-1, *shape)
        return {"pending_stream": np.array([s for s, _ in steps], dtype=np.int64),
                "pending_obs": stack(0, obs_shape, obs_dtype),
                "pending_action": stack(1, action_shape, action_dtype),
                "pending_reward": stack(2, (), np.float32),
                "pending_next_obs": stack(3, obs_shape, obs_dtype),
                "pending_done": stack(4, (), bool)}

    def load(self, state: dict) -> None:
        """Restore queues written by state()."""
        self.queues = {}
        fields = ("obs", "action", "reward", "next_obs", "done")
        for j, s in enumerate(state["pending_stream"]):
            step = tuple(np.array(state[f"pending_{f}"][j]) for f in fields)
            self.queues.setdefault(int(s), []).append(step)
