"""`hubkit::gae`: generalized advantage estimation over a (T, N) rollout as a torch op.

Backends: `reference` (`hubkit.rl.gae_reference`, a Python loop over time) and
`cpp` (csrc/gae/gae.cpp: one backward sweep, the N envs of a step vectorized;
the default on CPU). On CUDA tensors only the reference runs.

No autograd: advantages and returns are targets, computed from detached
values, so the op's outputs never require grad (asking for a gradient through
them is a mistake in a policy-gradient loss, not a missing feature).

Episode ends and NEXT_STEP autoreset. `dones[t] = 1` ends the episode at step t:
A_t reads neither V(s_{t+1}) nor A_{t+1}. With Gymnasium's NEXT_STEP autoreset
the step after a done is not a real transition: the env ignores its action and
returns the reset observation with reward 0. The op computes *something* for
that row (it never leaks into the row before it, since that row is done), and
`hubkit.rl.rollout.RolloutBuffer` masks it out of every loss (`valid` = 0).
A time-limit truncation is a done too; the rollout adds gamma * V(final obs)
to that step's reward first, so the cut-off tail is bootstrapped, not dropped.

Shapes: rewards, values, dones (T, N); last_value (N,) -> advantages, returns (T, N).
"""

from __future__ import annotations

import torch

from hubkit import _checks, _ext
from hubkit._backend import OpBackends
from hubkit._op import Op
from hubkit.rl.gae_reference import gae_reference

SPEC = OpBackends("gae", cpu=("cpp", "reference"), cuda=("reference",))
DTYPES = {"reference": _checks.FLOATS, "cpp": (torch.float32, torch.float64)}


def _gae_cpp(rewards, values, dones, last_value, gamma, lam):
    t, n = rewards.shape
    advantages, returns = torch.empty_like(rewards), torch.empty_like(rewards)
    _ext.cpp_module().gae(rewards.data_ptr(), values.data_ptr(), dones.data_ptr(),
                          last_value.data_ptr(), advantages.data_ptr(), returns.data_ptr(),
                          t, n, float(gamma), float(lam), _ext.dtype_code(rewards.dtype))
    return advantages, returns


def _fake(rewards, values, dones, last_value, gamma, lam):
    return torch.empty_like(rewards), torch.empty_like(rewards)


GAE = Op(
    name="gae", args="Tensor rewards, Tensor values, Tensor dones, Tensor last_value, "
                     "float gamma, float lam",
    outputs=("advantages", "returns"), grad_outputs=(), differentiable=(),
    backends=SPEC, dtypes=DTYPES,
    forward={"reference": gae_reference, "cpp": _gae_cpp}, backward={}, fake=_fake,
)


def _check(rewards, values, dones, last_value, gamma, lam) -> None:
    _checks.tensor("rewards", rewards, ndim=2, dtypes=_checks.FLOATS, what="(T, N)")
    if 0 in rewards.shape:
        raise ValueError(f"rewards: T and N must be at least 1, got {tuple(rewards.shape)}")
    for name, t in (("values", values), ("dones", dones)):
        _checks.tensor(name, t, ndim=2, what="(T, N)")
        if t.shape != rewards.shape:
            raise ValueError(f"{name}: expected shape {tuple(rewards.shape)} (T, N) like "
                             f"rewards, got {tuple(t.shape)}")
    _checks.tensor("last_value", last_value, ndim=1, what="(N,)")
    if last_value.shape[0] != rewards.shape[1]:
        raise ValueError(f"last_value: expected shape ({rewards.shape[1]},) (N,), "
                         f"got {tuple(last_value.shape)}")
    for name, x in (("gamma", gamma), ("lam", lam)):
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not 0.0 <= x <= 1.0:
            raise ValueError(f"{name}: expected a number in [0, 1], got {x!r}")


def _as_mask(dones: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """dones (bool, integer or float 0/1) as `dtype`; ValueError for other values."""
    if dones.dtype == torch.bool:  # what a rollout passes: nothing to check
        return dones.to(dtype)
    d = dones.to(dtype)
    if not bool(((d == 0) | (d == 1)).all()):
        raise ValueError("dones: expected only 0/1 (or bool) values")
    return d


def gae(rewards: torch.Tensor, values: torch.Tensor, dones: torch.Tensor,
        last_value: torch.Tensor, gamma: float = 0.99, lam: float = 0.95, *,
        backend: str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalized advantage estimates and value targets of a (T, N) rollout.

    Args:
        rewards: (T, N) float rewards.
        values: (T, N) V(s_t), detached (the op has no autograd).
        dones: (T, N) bool or 0/1: the episode ended at step t (terminated or truncated).
        last_value: (N,) V of the observation after the last step.
        gamma: discount in [0, 1]; lam: GAE lambda in [0, 1].
        backend: "reference" or "cpp" (float32/float64); None picks by device.

    Returns:
        advantages (T, N) and returns = advantages + values (T, N), never requiring grad.

    Example:
        >>> import torch, hubkit.rl
        >>> r = torch.ones(3, 1); v = torch.zeros(3, 1)
        >>> d = torch.tensor([[0.0], [1.0], [0.0]])  # the episode ends at step 1
        >>> adv, ret = hubkit.rl.gae(r, v, d, torch.zeros(1), gamma=0.5, lam=1.0)
        >>> adv.flatten().tolist()
        [1.5, 1.0, 1.0]
    """
    _check(rewards, values, dones, last_value, gamma, lam)
    _checks.same_dtype(rewards=rewards, values=values, last_value=last_value)
    device = _checks.same_device(rewards=rewards, values=values, dones=dones,
                                 last_value=last_value)
    return GAE(rewards, values.detach(), _as_mask(dones, rewards.dtype), last_value.detach(),
               float(gamma), float(lam), device=device, backend=backend)
