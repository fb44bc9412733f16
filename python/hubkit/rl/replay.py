"""Experience replay for off-policy RL: uniform and prioritized buffers.

`ReplayBuffer` stores transitions (obs, action, reward, next_obs, done) in a
ring of fixed capacity and samples mini-batches as torch tensors.
`PrioritizedReplayBuffer` samples transition i with probability
p_i^alpha / sum_j p_j^alpha and returns importance weights
(N * P(i))^-beta / max_batch (Schaul et al. 2016, https://arxiv.org/abs/1511.05952).

Both run on hubkit's C++ core (`hubkit._C.ReplayCore`, GIL released, one
mutex: a writer thread and a sampler thread may share a buffer) when it is
built, else on the NumPy reference (`hubkit.rl.replay_reference`);
`backend="reference"` or `"cpp"` picks one. Every argument is checked here,
before either core runs, so bad input raises ValueError and changes nothing.

Shape legend: N transitions in a batch; obs_shape and action_shape per transition.

Example:
    >>> import numpy as np
    >>> import torch
    >>> buf = ReplayBuffer(100, obs_shape=(4,), obs_dtype=np.float32)
    >>> obs = np.zeros(4, np.float32)
    >>> buf.add(obs, 1, 0.5, obs, False)
    >>> batch = buf.sample(1, generator=torch.Generator().manual_seed(0))
    >>> batch.obs.shape, batch.action.dtype
    (torch.Size([1, 4]), torch.int64)
"""

from __future__ import annotations

import json
import math
from typing import NamedTuple

import numpy as np
import torch

from hubkit import _backend, _ext
from hubkit.rl import replay_n_step
from hubkit.rl.replay_reference import MASK64, ReplayCoreReference

SPEC = _backend.OpBackends("ReplayBuffer", cpu=("cpp", "reference"), cuda=())
FIELDS = ("obs", "action", "reward", "next_obs", "done")
DTYPES = {np.dtype(t) for t in (np.float16, np.float32, np.float64, np.uint8, np.int8,
                                np.int16, np.int32, np.int64, np.bool_)}


class Batch(NamedTuple):
    """A uniform sample: obs (N, *obs_shape), action (N, *action_shape), reward (N,) float32,
    next_obs (N, *obs_shape), done (N,) bool."""

    obs: torch.Tensor
    action: torch.Tensor
    reward: torch.Tensor
    next_obs: torch.Tensor
    done: torch.Tensor


class PrioritizedBatch(NamedTuple):
    """A prioritized sample: Batch's fields, plus indices (N,) int64 for update_priorities
    and importance weights (N,) float32 in (0, 1]."""

    obs: torch.Tensor
    action: torch.Tensor
    reward: torch.Tensor
    next_obs: torch.Tensor
    done: torch.Tensor
    indices: torch.Tensor
    weights: torch.Tensor


def _np_dtype(name: str, dtype) -> np.dtype:
    try:
        if isinstance(dtype, torch.dtype):
            dt = torch.empty(0, dtype=dtype).numpy().dtype  # TypeError for bfloat16
        else:
            dt = np.dtype(dtype) if dtype is not None else None
    except TypeError:
        dt = None
    if dt not in DTYPES:
        raise ValueError(f"{name}: {dtype} is not supported; use one of "
                         f"{sorted(str(d) for d in DTYPES)}")
    return dt


def _shape(name: str, shape) -> tuple[int, ...]:
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if not all(isinstance(d, int) and d > 0 for d in shape):
        raise ValueError(f"{name}: expected a tuple of positive ints, got {shape}")
    return shape


def _field(name: str, x, dtype: np.dtype, shape: tuple, strict: bool) -> np.ndarray:
    """x as a C-contiguous array of `dtype` and `shape`, or ValueError naming `name`.

    strict: arrays must already have `dtype`; Python scalars and lists may be cast
    within their kind (int -> int, float -> float), never across kinds.
    """
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    arr = x if type(x) is np.ndarray else np.asarray(x)
    if arr.dtype != dtype:
        if (strict and type(x) is np.ndarray) or not np.can_cast(arr.dtype, dtype, "same_kind"):
            raise ValueError(f"{name}: dtype {arr.dtype}, expected {dtype}")
        arr = arr.astype(dtype)
    if arr.shape != shape:
        raise ValueError(f"{name}: expected shape {shape}, got {arr.shape}")
    return arr if arr.flags.c_contiguous else np.ascontiguousarray(arr)


class ReplayBuffer:
    """Uniform experience replay on a ring buffer.

    Args:
        capacity: transitions kept; the oldest is overwritten when full.
        obs_shape, obs_dtype: one observation (e.g. (4,), float32 or (84, 84, 4), uint8).
        action_shape, action_dtype: one action (() and int64 for a discrete action).
        n_step: store n-step transitions: reward = sum_k gamma^k r_{t+k} over n steps and
            next_obs = obs_{t+n}; bootstrap them with gamma^n.
        gamma: discount for n-step returns.
        seed: seeds the buffer's own RNG (used when sample() gets no generator).
        backend: "cpp" or "reference"; None picks C++ when it is built.
    """

    prioritized = False

    def __init__(self, capacity: int, obs_shape, obs_dtype=np.float32, action_shape=(),
                 action_dtype=np.int64, *, n_step: int = 1, gamma: float = 0.99,
                 seed: int = 0, backend: str | None = None, alpha: float = 1.0):
        if not isinstance(capacity, int) or capacity <= 0:
            raise ValueError(f"capacity: expected a positive int, got {capacity!r}")
        if not isinstance(n_step, int) or n_step < 1:
            raise ValueError(f"n_step: expected an int >= 1, got {n_step!r}")
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f"gamma: expected a value in [0, 1], got {gamma}")
        self.capacity, self.n_step, self.gamma, self.alpha = capacity, n_step, gamma, alpha
        self.obs_shape, self.action_shape = _shape("obs_shape", obs_shape), _shape(
            "action_shape", action_shape)
        self.obs_dtype = _np_dtype("obs_dtype", obs_dtype)
        self.action_dtype = _np_dtype("action_dtype", action_dtype)
        self.backend = _backend.resolve(SPEC, torch.device("cpu"), backend)
        core_cls = _ext.cpp_module().ReplayCore if self.backend == "cpp" else ReplayCoreReference
        self._core = core_cls(capacity, self.obs_shape, self.obs_dtype, self.action_shape,
                              self.action_dtype, self.prioritized, float(alpha))
        self._core.set_rng_state(int(seed) & MASK64)
        self._pending = replay_n_step.Pending(n_step, gamma)

    def __len__(self) -> int:
        return len(self._core)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(capacity={self.capacity}, len={len(self)}, "
                f"obs={self.obs_shape} {self.obs_dtype}, backend={self.backend!r})")

    def add(self, obs, action, reward, next_obs, done, truncated=False) -> None:
        """Store one transition, or a batch of N (one per vector-env copy).

        Args:
            obs, next_obs: obs_shape, or (N, *obs_shape) for a batch; dtype obs_dtype.
            action: action_shape or (N, *action_shape); dtype action_dtype.
            reward: a float, or (N,).
            done: episode terminated (no bootstrap from next_obs): a bool, or (N,).
            truncated: episode cut by a time limit (only n-step buffers use it).
        """
        if self.n_step == 1 and self._core.try_add(obs, action, reward, next_obs, done):
            return  # exact types: checked and stored in one C++ call
        rows = self._rows(obs, action, reward, next_obs, done)
        if self.n_step == 1:
            self._core.add(*rows)
            return
        shape = () if np.ndim(truncated) == 0 else rows[2].shape
        trunc = _field("truncated", truncated, np.dtype(bool), shape, False)
        for out in self._pending.push(rows, np.broadcast_to(trunc, rows[2].shape)):
            self._core.add(*out)

    def _rows(self, obs, action, reward, next_obs, done) -> tuple[np.ndarray, ...]:
        """Checked fields with a leading N axis (N = 1 for a single transition)."""
        single = np.ndim(obs) == len(self.obs_shape)
        lead = () if single else (len(obs),)
        rows = (_field("obs", obs, self.obs_dtype, lead + self.obs_shape, True),
                _field("action", action, self.action_dtype, lead + self.action_shape, True),
                _field("reward", reward, np.dtype(np.float32), lead, False),
                _field("next_obs", next_obs, self.obs_dtype, lead + self.obs_shape, True),
                _field("done", done, np.dtype(bool), lead, False))
        if not (math.isfinite(rows[2]) if single else np.isfinite(rows[2]).all()):
            raise ValueError("reward: contains NaN or infinite values")
        return tuple(r.reshape((1, *r.shape)) for r in rows) if single else rows

    def _seed(self, generator: torch.Generator | None) -> int:
        if generator is None:
            return self._core.next_seed()
        if not isinstance(generator, torch.Generator):
            raise ValueError(f"generator: expected a torch.Generator, got {type(generator)}")
        return int(torch.randint(-(2**63), 2**63 - 1, (), generator=generator)) & MASK64

    def _check_batch_size(self, batch_size) -> None:
        if not isinstance(batch_size, int) or not 1 <= batch_size <= len(self):
            raise ValueError(f"batch_size: expected an int in [1, len(buffer)={len(self)}], "
                             f"got {batch_size!r}")

    def sample(self, batch_size: int, generator: torch.Generator | None = None) -> Batch:
        """Draw batch_size transitions uniformly with replacement.

        Args:
            batch_size: N, at most len(self).
            generator: draws this call's seed (reproducible); None uses the buffer's RNG.

        Returns:
            Batch of CPU tensors: obs (N, *obs_shape), action (N, *action_shape),
            reward (N,) float32, next_obs (N, *obs_shape), done (N,) bool.
        """
        self._check_batch_size(batch_size)
        out = self._core.sample(batch_size, self._seed(generator), 0.0)
        return Batch(*(torch.from_numpy(a) for a in out[:5]))

    def state_dict(self) -> dict:
        """Everything needed to rebuild this buffer exactly: config, arrays, counters, RNG."""
        state = self._core.state()
        state.update(self._pending.state(self.obs_shape, self.obs_dtype, self.action_shape,
                                         self.action_dtype))
        state["config"] = self._config()
        return state

    def _config(self) -> dict:
        return {"capacity": self.capacity, "obs_shape": list(self.obs_shape),
                "obs_dtype": str(self.obs_dtype), "action_shape": list(self.action_shape),
                "action_dtype": str(self.action_dtype), "prioritized": self.prioritized,
                "alpha": self.alpha, "n_step": self.n_step, "gamma": self.gamma}

    def load_state_dict(self, state: dict) -> None:
        """Restore a state_dict() taken from a buffer with the same config (either backend)."""
        if state.get("config") != self._config():
            raise ValueError(f"state: config {state.get('config')} does not match this "
                             f"buffer's {self._config()}")
        self._core.load(state["obs"], state["action"], state["reward"], state["next_obs"],
                        state["done"], state.get("leaves", np.zeros(0)), int(state["size"]),
                        int(state["pos"]), int(state["rng_state"]),
                        float(state.get("max_priority", 1.0)))
        self._pending.load(state)

    def save(self, path) -> None:
        """Write state_dict() to an .npz file (no pickle)."""
        state = self.state_dict()
        state["config"] = np.array(json.dumps(state["config"]))
        state["rng_state"] = np.array(state["rng_state"], dtype=np.uint64)
        with open(path, "wb") as f:
            np.savez(f, **state)

    def load(self, path) -> None:
        """Restore a buffer written by save()."""
        with np.load(path, allow_pickle=False) as data:
            state = {k: data[k] for k in data.files}
        state["config"] = json.loads(str(state["config"]))
        self.load_state_dict(state)


class PrioritizedReplayBuffer(ReplayBuffer):
    """Prioritized experience replay on a sum tree (proportional variant).

    Args:
        capacity, obs_shape, obs_dtype, action_shape, action_dtype, n_step, gamma, seed,
        backend: as for ReplayBuffer.
        alpha: priority exponent, P(i) = p_i^alpha / sum_j p_j^alpha (0 = uniform).
        beta: importance-weight exponent (anneal it towards 1 during training).

    New transitions get the largest priority given so far (1.0 at first), so each is
    likely to be replayed at least once before update_priorities lowers it.
    """

    prioritized = True

    def __init__(self, capacity: int, obs_shape, obs_dtype=np.float32, action_shape=(),
                 action_dtype=np.int64, *, alpha: float = 0.6, beta: float = 0.4,
                 n_step: int = 1, gamma: float = 0.99, seed: int = 0,
                 backend: str | None = None):
        if not (isinstance(alpha, (int, float)) and 0.0 <= alpha and math.isfinite(alpha)):
            raise ValueError(f"alpha: expected a finite value >= 0, got {alpha!r}")
        self.beta = beta
        super().__init__(capacity, obs_shape, obs_dtype, action_shape, action_dtype,
                         n_step=n_step, gamma=gamma, seed=seed, backend=backend,
                         alpha=float(alpha))

    def sample(self, batch_size: int, generator: torch.Generator | None = None,
               beta: float | None = None) -> PrioritizedBatch:
        """Draw batch_size transitions by priority (stratified over the sum tree's total).

        Args:
            batch_size: N, at most len(self).
            generator: draws this call's seed; None uses the buffer's RNG.
            beta: overrides self.beta for this call.

        Returns:
            PrioritizedBatch: Batch's tensors plus indices (N,) int64 and weights (N,) float32.
        """
        beta = self.beta if beta is None else beta
        if not (isinstance(beta, (int, float)) and 0.0 <= beta and math.isfinite(beta)):
            raise ValueError(f"beta: expected a finite value >= 0, got {beta!r}")
        self._check_batch_size(batch_size)
        out = self._core.sample(batch_size, self._seed(generator), float(beta))
        return PrioritizedBatch(*(torch.from_numpy(a) for a in out))

    def update_priorities(self, indices, priorities) -> None:
        """Set the priorities of sampled transitions (typically |TD error| + a small eps).

        Args:
            indices: (N,) ints in [0, len(self)), e.g. PrioritizedBatch.indices.
            priorities: (N,) positive finite values.
        """
        idx = np.asarray(indices.detach().cpu() if isinstance(indices, torch.Tensor) else indices)
        pri = np.asarray(priorities.detach().cpu() if isinstance(priorities, torch.Tensor)
                         else priorities)
        if idx.ndim != 1 or idx.dtype.kind not in "iu":
            raise ValueError(f"indices: expected a 1-D integer array, got {idx.dtype} {idx.shape}")
        if pri.shape != idx.shape or pri.dtype.kind not in "iuf":
            raise ValueError(f"priorities: expected {idx.shape} real values, got "
                             f"{pri.dtype} {pri.shape}")
        if idx.size and (idx.min() < 0 or idx.max() >= len(self)):
            raise ValueError(f"indices: out of range [0, {len(self)})")
        if not (np.isfinite(pri).all() and (pri > 0).all()):
            raise ValueError("priorities: must be positive and finite (add a small eps to "
                             "|TD error|)")
        self._core.update_priorities(np.ascontiguousarray(idx, dtype=np.int64),
                                     np.ascontiguousarray(pri, dtype=np.float64))
