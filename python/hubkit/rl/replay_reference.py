"""Replay buffers in plain NumPy: the readable spec of hubkit's C++ `ReplayCore`.

A replay buffer keeps the last `capacity` transitions (obs, action, reward,
next_obs, done) in preallocated arrays used as a ring: slot `pos` is written
next and wraps to 0 after `capacity - 1`, overwriting the oldest transition.

Prioritized replay (Schaul et al. 2016, https://arxiv.org/abs/1511.05952)
draws transition i with probability P(i) = p_i^alpha / sum_j p_j^alpha and
corrects the bias with importance weights w_i = (N * P(i))^-beta, divided by
the batch's largest weight. A sum tree makes both the draw and a priority
update O(log N).

`ReplayCoreReference` has the same methods as `hubkit._C.ReplayCore`, so the
public buffers in `hubkit.rl.replay` run on either. Shape legend: N count
(capacity or batch), obs_shape and action_shape per transition.

Example:
    >>> import numpy as np
    >>> core = ReplayCoreReference(4, (2,), np.float32, (), np.int64, False, 1.0)
    >>> z = np.zeros((1, 2), np.float32)
    >>> core.add(z, np.zeros(1, np.int64), np.ones(1, np.float32), z, np.zeros(1, bool))
    >>> len(core), core.pos
    (1, 1)
"""

from __future__ import annotations

import functools
import threading

import numpy as np

MASK64 = (1 << 64) - 1


def splitmix64(state: int) -> tuple[int, int]:
    """One step of splitmix64: returns (new_state, output), both in [0, 2^64)."""
    state = (state + 0x9E3779B97F4A7C15) & MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return state, z ^ (z >> 31)


def _locked(method):
    """Run a ReplayCoreReference method while holding the buffer's lock."""
    @functools.wraps(method)
    def wrapper(self, *args):
        with self.lock:
            return method(self, *args)
    return wrapper


class SumTreeReference:
    """Binary tree whose inner nodes hold the sum of their children.

    Leaves live at [leaves, 2 * leaves) of a 1-based heap array; the root
    (node 1) holds the total.
    """

    def __init__(self, capacity: int):
        self.leaves = 1
        while self.leaves < capacity:
            self.leaves *= 2
        self.nodes = np.zeros(2 * self.leaves, dtype=np.float64)

    def set(self, i: int, value: float) -> None:
        """Leaf i = value; recompute each ancestor from its two children."""
        node = i + self.leaves
        self.nodes[node] = value
        node //= 2
        while node >= 1:
            self.nodes[node] = self.nodes[2 * node] + self.nodes[2 * node + 1]
            node //= 2

    def set_many(self, indices: np.ndarray, values: np.ndarray) -> None:
        """`set` for many leaves at once: write them, then each level's touched parents."""
        nodes = np.asarray(indices, dtype=np.int64) + self.leaves
        self.nodes[nodes] = values
        while nodes[0] > 1:
            nodes = np.unique(nodes // 2)
            self.nodes[nodes] = self.nodes[2 * nodes] + self.nodes[2 * nodes + 1]

    def build(self, values: np.ndarray) -> None:
        """Set every leaf at once (leaves past len(values) = 0), then all sums level by level."""
        self.nodes[:] = 0.0
        self.nodes[self.leaves:self.leaves + len(values)] = values
        level = self.leaves
        while level > 1:
            children = self.nodes[level:2 * level]
            self.nodes[level // 2:level] = children[0::2] + children[1::2]
            level //= 2

    def get(self, i: int) -> float:
        return float(self.nodes[i + self.leaves])

    def total(self) -> float:
        return float(self.nodes[1])

    def find(self, prefix: float, filled: int) -> int:
        """The leaf whose running-sum interval holds `prefix` (at most filled - 1)."""
        node = 1
        while node < self.leaves:
            left = self.nodes[2 * node]
            if prefix < left:
                node = 2 * node
            else:
                prefix -= left
                node = 2 * node + 1
        # subtle: rounding when prefix is close to the total can step past the last
        # filled leaf into an empty one; clamp back.
        return min(node - self.leaves, filled - 1)


class ReplayCoreReference:
    """Ring buffer of transitions, plus a sum tree of p^alpha when prioritized.

    Args:
        capacity: transitions kept (N).
        obs_shape, obs_dtype: one observation's shape and NumPy dtype.
        action_shape, action_dtype: one action's shape and NumPy dtype.
        prioritized: keep a sum tree and sample by priority.
        alpha: priority exponent (0 = uniform, 1 = fully proportional).
    """

    def __init__(self, capacity, obs_shape, obs_dtype, action_shape, action_dtype,
                 prioritized, alpha):
        self.capacity = capacity
        self.obs = np.zeros((capacity, *obs_shape), dtype=obs_dtype)
        self.action = np.zeros((capacity, *action_shape), dtype=action_dtype)
        self.reward = np.zeros(capacity, dtype=np.float32)
        self.next_obs = np.zeros((capacity, *obs_shape), dtype=obs_dtype)
        self.done = np.zeros(capacity, dtype=bool)
        self.prioritized, self.alpha = prioritized, alpha
        self.tree = SumTreeReference(capacity if prioritized else 1)
        self.size, self.pos, self.rng_state, self.max_priority = 0, 0, 0, 1.0
        # One lock around every method, like the C++ core's mutex, so a writer thread
        # and a sampler thread never see a half-written row.
        self.lock = threading.Lock()

    def __len__(self) -> int:
        return self.size

    @_locked
    def add(self, obs, action, reward, next_obs, done) -> None:
        """Write N rows (each argument has a leading N axis) at pos, wrapping around."""
        n = len(reward)
        if n > self.capacity:  # only the last `capacity` rows survive a long batch
            self.pos = (self.pos + n - self.capacity) % self.capacity
            self.size = min(self.size + n - self.capacity, self.capacity)
            obs, action, reward, next_obs, done = (x[n - self.capacity:] for x in
                                                   (obs, action, reward, next_obs, done))
            n = self.capacity
        slots = (self.pos + np.arange(n)) % self.capacity  # (N,) the ring's next N slots
        self.obs[slots], self.action[slots], self.reward[slots] = obs, action, reward
        self.next_obs[slots], self.done[slots] = next_obs, done
        if self.prioritized:
            self.tree.set_many(slots, np.full(n, self.max_priority ** self.alpha))
        self.pos = (self.pos + n) % self.capacity
        self.size = min(self.size + n, self.capacity)

    def try_add(self, obs, action, reward, next_obs, done) -> bool:
        """The C++ core's fast path for exact types; here every add takes the checked path."""
        return False

    @_locked
    def next_seed(self) -> int:
        """Advance the buffer's own splitmix64 state; return a 64-bit seed."""
        self.rng_state, seed = splitmix64(self.rng_state)
        return seed

    @_locked
    def set_rng_state(self, state: int) -> None:
        self.rng_state = state

    @_locked
    def sample(self, batch_size: int, seed: int, beta: float) -> tuple:
        """Draw batch_size rows: (obs, action, reward, next_obs, done, indices[, weights])."""
        rng = np.random.default_rng(seed)
        if not self.prioritized:
            idx = rng.integers(0, self.size, size=batch_size, dtype=np.int64)
            return self._gather(idx)
        idx, weights = self._sample_prioritized(batch_size, rng, beta)
        return (*self._gather(idx), weights)

    def _sample_prioritized(self, batch_size, rng, beta):
        # Stratified: one uniform prefix inside each of batch_size equal segments of the total.
        total = self.tree.total()
        segment = total / batch_size
        prefixes = (np.arange(batch_size) + rng.random(batch_size)) * segment
        idx = np.array([self.tree.find(u, self.size) for u in prefixes], dtype=np.int64)
        probs = np.array([self.tree.get(i) for i in idx]) / total
        weights = (self.size * probs) ** -beta
        return idx, (weights / weights.max()).astype(np.float32)

    def _gather(self, idx):
        return (self.obs[idx], self.action[idx], self.reward[idx], self.next_obs[idx],
                self.done[idx], idx)

    @_locked
    def update_priorities(self, indices, priorities) -> None:
        """Set p_i for each index (the tree stores p_i^alpha)."""
        for i, p in zip(indices, priorities, strict=True):
            self.tree.set(int(i), float(p) ** self.alpha)
            self.max_priority = max(self.max_priority, float(p))

    @_locked
    def state(self) -> dict:
        """Copies of every array and counter (the same keys as the C++ core)."""
        d = {"obs": self.obs.copy(), "action": self.action.copy(), "reward": self.reward.copy(),
             "next_obs": self.next_obs.copy(), "done": self.done.copy(), "size": self.size,
             "pos": self.pos, "rng_state": self.rng_state}
        if self.prioritized:
            d["leaves"] = self.tree.nodes[self.tree.leaves:][:self.capacity].copy()
            d["max_priority"] = self.max_priority
        return d

    @_locked
    def load(self, obs, action, reward, next_obs, done, leaves, size, pos, rng_state,
             max_priority) -> None:
        """Replace the whole state (arrays of capacity rows)."""
        self.obs[:], self.action[:], self.reward[:] = obs, action, reward
        self.next_obs[:], self.done[:] = next_obs, done
        if self.prioritized:
            self.tree.build(np.asarray(leaves, dtype=np.float64))
        self.size, self.pos, self.rng_state, self.max_priority = size, pos, rng_state, max_priority
