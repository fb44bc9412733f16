"""hubkit.rl.gae: a hand-computed case, every backend against the reference, NEXT_STEP, errors."""

from __future__ import annotations

import pytest
import torch

import hubkit
from hubkit.rl import gae
from hubkit.rl.gae_reference import gae_reference

BACKENDS = ["reference", "cpp"]


def _skip_unavailable(backend: str) -> None:
    if backend not in hubkit.ops.available_backends():
        pytest.skip(f"backend {backend} not available here")


def _rollout(t, n, dtype, gen, p_done=0.1):
    rand = lambda *s: torch.randn(*s, generator=gen, dtype=torch.float64).to(dtype)  # noqa: E731
    dones = (torch.rand(t, n, generator=gen) < p_done).to(dtype)
    return rand(t, n), rand(t, n), dones, rand(n)


@pytest.mark.parametrize("backend", BACKENDS)
def test_gae_matches_hand_computed_two_env_case(backend):
    _skip_unavailable(backend)
    # env 0: episode ends at step 1; env 1: no end, bootstraps from last_value = 10.
    rewards = torch.tensor([[1.0, 0.0], [2.0, 0.0], [3.0, 1.0]], dtype=torch.float64)
    values = torch.tensor([[0.5, 1.0], [1.0, 2.0], [0.0, 4.0]], dtype=torch.float64)
    dones = torch.tensor([[0, 0], [1, 0], [0, 0]], dtype=torch.float64)
    last = torch.tensor([5.0, 10.0], dtype=torch.float64)
    g, lam = 0.5, 0.5
    # env 0: d2 = 3 + .5*5 - 0 = 5.5; d1 = 2 - 1 = 1 (done: no bootstrap, no carry);
    #        d0 = 1 + .5*1 - .5 = 1;   A0 = 1 + .25*1 = 1.25
    # env 1: d2 = 1 + 5 - 4 = 2; d1 = 0 + 2 - 2 = 0 -> A1 = .25*2 = .5;
    #        d0 = 0 + 1 - 1 = 0 -> A0 = .25*.5 = .125
    want_adv = torch.tensor([[1.25, 0.125], [1.0, 0.5], [5.5, 2.0]], dtype=torch.float64)
    adv, ret = gae(rewards, values, dones, last, g, lam, backend=backend)
    torch.testing.assert_close(adv, want_adv)
    torch.testing.assert_close(ret, want_adv + values)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("shape", [(1, 1), (7, 3), (129, 5), (33, 64)], ids=str)
def test_gae_matches_float64_reference(backend, dtype, shape, gen):
    _skip_unavailable(backend)
    inputs = _rollout(*shape, dtype, gen)
    adv, ret = gae(*inputs, 0.99, 0.95, backend=backend)
    want_adv, want_ret = gae_reference(*(x.double() for x in inputs), 0.99, 0.95)
    tol = 1e-12 if dtype == torch.float64 else 1e-5
    assert adv.dtype == dtype and ret.shape == shape
    torch.testing.assert_close(adv.double(), want_adv, atol=tol * 10, rtol=tol)
    torch.testing.assert_close(ret.double(), want_ret, atol=tol * 10, rtol=tol)


def test_gae_lambda_one_is_discounted_return_minus_value(gen):
    r, v, _, _ = _rollout(6, 2, torch.float64, gen)
    d = torch.zeros(6, 2, dtype=torch.float64)
    adv, ret = gae(r, v, d, torch.zeros(2, dtype=torch.float64), 0.9, 1.0)
    mc = torch.stack([sum(0.9 ** (k - t) * r[k] for k in range(t, 6)) for t in range(6)])
    torch.testing.assert_close(ret, mc)


@pytest.mark.parametrize("backend", BACKENDS)
def test_gae_next_step_reset_row_does_not_leak_into_the_episode_before(backend, gen):
    """NEXT_STEP: the row after a done (reset obs, reward 0) may hold anything."""
    _skip_unavailable(backend)
    r, v, d, last = _rollout(8, 3, torch.float64, gen, p_done=0.0)
    d[3] = 1.0  # every env's episode ends at step 3; step 4 is the reset step
    adv, _ = gae(r, v, d, last, 0.99, 0.95, backend=backend)
    r2, v2 = r.clone(), v.clone()
    r2[4], v2[4] = 123.0, -55.0  # junk in the reset row
    adv2, _ = gae(r2, v2, d, last, 0.99, 0.95, backend=backend)
    torch.testing.assert_close(adv2[:4], adv[:4])
    assert not torch.allclose(adv2[4], adv[4])


def test_gae_accepts_bool_dones_and_never_requires_grad(gen):
    r, v, d, last = _rollout(5, 2, torch.float32, gen)
    v.requires_grad_()
    adv, ret = gae(r, v, d.bool(), last)
    want, _ = gae(r, v.detach(), d, last)
    torch.testing.assert_close(adv, want)
    assert not adv.requires_grad and not ret.requires_grad


def test_gae_cpp_and_reference_outputs_are_the_op_outputs(gen):
    inputs = _rollout(9, 4, torch.float32, gen)
    torch.library.opcheck(torch.ops.hubkit.gae.default, (*inputs, 0.9, 0.8, "reference"))
    if "cpp" in hubkit.ops.available_backends():
        torch.library.opcheck(torch.ops.hubkit.gae.default, (*inputs, 0.9, 0.8, "cpp"))


def test_gae_under_torch_compile(gen):
    inputs = _rollout(6, 3, torch.float32, gen)
    compiled = torch.compile(lambda *a: gae(*a, 0.99, 0.95), backend="eager", fullgraph=False)
    torch.testing.assert_close(compiled(*inputs)[0], gae(*inputs, 0.99, 0.95)[0])


@pytest.mark.parametrize("change, match", [
    (lambda a: {**a, "rewards": a["rewards"][0]}, "rewards: expected 2 dims"),
    (lambda a: {**a, "values": a["values"][:-1]}, "values: expected shape"),
    (lambda a: {**a, "dones": a["dones"][:, :1]}, "dones: expected shape"),
    (lambda a: {**a, "last_value": a["last_value"][:1]}, "last_value: expected shape"),
    (lambda a: {**a, "dones": a["dones"] * 2 + 0.5}, "dones: expected only 0/1"),
    (lambda a: {**a, "gamma": 1.5}, "gamma: expected a number in"),
    (lambda a: {**a, "lam": -0.1}, "lam: expected a number in"),
    (lambda a: {**a, "values": a["values"].double()}, "values: dtype"),
    (lambda a: {**a, "rewards": a["rewards"][:0]}, "rewards: T and N"),
])
def test_gae_bad_input_names_the_argument(change, match, gen):
    r, v, d, last = _rollout(4, 3, torch.float32, gen)
    args = change({"rewards": r, "values": v, "dones": d, "last_value": last,
                   "gamma": 0.99, "lam": 0.95})
    with pytest.raises((ValueError, TypeError), match=match):
        gae(**args)


def test_gae_cpp_rejects_half_with_the_backend_named(gen):
    _skip_unavailable("cpp")
    r, v, d, last = (x.half() for x in _rollout(4, 3, torch.float32, gen))
    with pytest.raises(ValueError, match="'cpp' backend of hubkit.ops.gae"):
        gae(r, v, d, last, backend="cpp")
