"""hubkit.rl replay buffers: one suite run on the C++ core and the NumPy reference."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from scipy import stats

from hubkit import _ext
from hubkit.rl import PrioritizedReplayBuffer, ReplayBuffer

BACKENDS = [
    "reference",
    pytest.param("cpp", marks=pytest.mark.skipif(_ext.cpp_module() is None,
                                                 reason="hubkit._C not built")),
]
KINDS = [ReplayBuffer, PrioritizedReplayBuffer]


def make(kind, backend, capacity=8, **kw):
    return kind(capacity, (3,), np.float32, (2,), np.int32, backend=backend, **kw)


def transition(i: int) -> tuple:
    """Transition number i; every field encodes i so rows can be checked after sampling."""
    obs = np.full(3, i, np.float32)
    return obs, np.array([i, -i], np.int32), float(i) / 2, obs + 1, i % 3 == 0


def fill(buf, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        buf.add(*transition(i))


def assert_state_equal(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], np.ndarray):
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)
        else:
            assert a[k] == b[k], k


def assert_rows_consistent(batch) -> None:
    ids = batch.obs[:, 0]
    assert torch.equal(batch.obs, ids[:, None].expand(-1, 3))
    assert torch.equal(batch.next_obs, batch.obs + 1)
    assert torch.equal(batch.action[:, 0].float(), ids)
    assert torch.equal(batch.reward, ids / 2)
    assert torch.equal(batch.done, ids.long() % 3 == 0)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_sample_returns_stored_transitions(kind, backend, gen):
    buf = make(kind, backend)
    fill(buf, 6)
    batch = buf.sample(6, generator=gen)
    assert batch.obs.shape == (6, 3) and batch.obs.dtype == torch.float32
    assert batch.action.shape == (6, 2) and batch.action.dtype == torch.int32
    assert batch.reward.dtype == torch.float32 and batch.done.dtype == torch.bool
    assert_rows_consistent(batch)
    assert set(batch.obs[:, 0].long().tolist()) <= set(range(6))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_wraparound_overwrites_oldest_slots_first(kind, backend):
    buf = make(kind, backend, capacity=5)
    fill(buf, 7)
    state = buf.state_dict()
    assert len(buf) == 5 and state["pos"] == 2
    # slot k holds the newest transition written there: 5, 6, 2, 3, 4
    np.testing.assert_array_equal(state["obs"][:, 0], [5, 6, 2, 3, 4])
    np.testing.assert_array_equal(state["action"][:, 1], [-5, -6, -2, -3, -4])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_batch_add_matches_single_adds(kind, backend):
    single, batched = make(kind, backend, capacity=5), make(kind, backend, capacity=5)
    fill(single, 7)
    rows = [transition(i) for i in range(7)]
    batched.add(*(np.stack([np.asarray(r[k]) for r in rows]) for k in range(5)))
    assert_state_equal(single.state_dict(), batched.state_dict())


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_same_generator_seed_gives_same_sample(kind, backend):
    buf = make(kind, backend)
    fill(buf, 8)
    if buf.prioritized:  # equal priorities make stratified draws one per slot, every time
        buf.update_priorities(np.arange(8), np.arange(1.0, 9.0) ** 2)
    a = buf.sample(8, generator=torch.Generator().manual_seed(3))
    b = buf.sample(8, generator=torch.Generator().manual_seed(3))
    c = buf.sample(8, generator=torch.Generator().manual_seed(4))
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert not torch.equal(a.obs, c.obs)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_save_load_round_trip_loses_nothing(kind, backend, tmp_path):
    buf = make(kind, backend, n_step=2, gamma=0.5)
    fill(buf, 11)
    if buf.prioritized:
        batch = buf.sample(4)
        buf.update_priorities(batch.indices, torch.arange(1.0, 5.0))
    buf.save(tmp_path / "buf.npz")
    restored = make(kind, backend, n_step=2, gamma=0.5)
    restored.load(tmp_path / "buf.npz")
    assert_state_equal(buf.state_dict(), restored.state_dict())
    a, b = buf.sample(8), restored.sample(8)  # the buffers' own RNG states match too
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    fill(buf, 1, start=11), fill(restored, 1, start=11)  # so do the pending n-step steps
    assert_state_equal(buf.state_dict(), restored.state_dict())


@pytest.mark.parametrize("kind", KINDS)
def test_state_dict_moves_between_backends(kind):
    if _ext.cpp_module() is None:
        pytest.skip("hubkit._C not built")
    src = make(kind, "cpp")
    fill(src, 11)
    dst = make(kind, "reference")
    dst.load_state_dict(src.state_dict())
    assert_state_equal(src.state_dict(), dst.state_dict())


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_load_rejects_a_state_with_another_config(kind, backend):
    buf = make(kind, backend)
    other = kind(9, (3,), np.float32, (2,), np.int32, backend=backend)
    with pytest.raises(ValueError, match="state: config"):
        buf.load_state_dict(other.state_dict())


@pytest.mark.parametrize("backend", BACKENDS)
def test_uniform_sampling_frequencies_are_uniform(backend):
    buf = make(ReplayBuffer, backend, capacity=40)
    fill(buf, 40)
    gen = torch.Generator().manual_seed(1)
    counts = np.zeros(40)
    for _ in range(500):
        np.add.at(counts, buf.sample(40, generator=gen).obs[:, 0].long().numpy(), 1)
    assert stats.chisquare(counts).pvalue > 1e-3


def prioritized_counts(backend, alpha, priorities):
    buf = make(PrioritizedReplayBuffer, backend, capacity=len(priorities), alpha=alpha)
    fill(buf, len(priorities))
    buf.update_priorities(np.arange(len(priorities)), priorities)
    gen, counts = torch.Generator().manual_seed(2), np.zeros(len(priorities))
    for _ in range(700):
        np.add.at(counts, buf.sample(len(priorities), generator=gen).indices.numpy(), 1)
    return counts


@pytest.mark.parametrize("backend", BACKENDS)
def test_prioritized_frequencies_follow_p_to_the_alpha(backend):
    priorities = np.random.default_rng(0).uniform(0.1, 3.0, size=30)
    counts = prioritized_counts(backend, 0.6, priorities)
    expected = priorities**0.6 / (priorities**0.6).sum() * counts.sum()
    assert stats.chisquare(counts, expected).pvalue > 1e-3
    # the same counts are far from plain p / sum p: the test can tell alpha apart
    wrong = priorities / priorities.sum() * counts.sum()
    assert stats.chisquare(counts, wrong).pvalue < 1e-6


@pytest.mark.parametrize("backend", BACKENDS)
def test_importance_weights_are_normalized_n_p_to_minus_beta(backend):
    buf = make(PrioritizedReplayBuffer, backend, capacity=10, alpha=0.7, beta=0.5)
    fill(buf, 10)
    priorities = np.linspace(0.5, 5.0, 10)
    buf.update_priorities(np.arange(10), priorities)
    batch = buf.sample(10, generator=torch.Generator().manual_seed(0))
    probs = priorities**0.7 / (priorities**0.7).sum()
    w = (10 * probs[batch.indices.numpy()]) ** -0.5
    np.testing.assert_allclose(batch.weights.numpy(), w / w.max(), rtol=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_new_transitions_get_the_largest_priority_so_far(backend):
    buf = make(PrioritizedReplayBuffer, backend, capacity=4, alpha=1.0)
    fill(buf, 2)
    buf.update_priorities([0, 1], [1.0, 7.0])
    fill(buf, 1, start=2)
    np.testing.assert_allclose(buf.state_dict()["leaves"][:3], [1.0, 7.0, 7.0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_n_step_stores_discounted_returns_and_stops_at_done(backend):
    buf = ReplayBuffer(10, (1,), np.float32, backend=backend, n_step=3, gamma=0.5)
    for t, done in enumerate([False, False, False, True]):
        buf.add(np.array([t], np.float32), t, 1.0, np.array([t + 1], np.float32), done)
    s = buf.state_dict()
    assert len(buf) == 4  # one full 3-step row at t=0, then t=1..3 flushed by done
    np.testing.assert_allclose(s["reward"][:4], [1.75, 1.75, 1.5, 1.0])
    np.testing.assert_array_equal(s["next_obs"][:4, 0], [3, 4, 4, 4])
    np.testing.assert_array_equal(s["done"][:4], [False, True, True, True])


@pytest.mark.parametrize("backend", BACKENDS)
def test_n_step_drops_unfinished_steps_at_truncation(backend):
    buf = ReplayBuffer(10, (1,), np.float32, backend=backend, n_step=3, gamma=0.5)
    obs = np.zeros(1, np.float32)
    buf.add(obs, 0, 1.0, obs, False)
    buf.add(obs, 0, 1.0, obs, False, truncated=True)
    buf.add(obs, 0, 1.0, obs, False)
    buf.add(obs, 0, 1.0, obs, False)
    assert len(buf) == 0  # the truncated episode's two steps never complete 3 steps


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_one_writer_and_one_sampler_thread_see_whole_rows(kind, backend):
    buf = make(kind, backend, capacity=64)
    fill(buf, 32)
    errors: list[BaseException] = []

    def writer():
        try:
            fill(buf, 3000, start=32)
        except BaseException as err:  # noqa: BLE001  (reported by the main thread)
            errors.append(err)

    thread = threading.Thread(target=writer)
    thread.start()
    while thread.is_alive():
        batch = buf.sample(32)
        assert_rows_consistent(batch)
        if buf.prioritized:
            buf.update_priorities(batch.indices, torch.rand(32) + 0.1)
    thread.join()
    assert not errors and len(buf) == 64
    assert buf.state_dict()["obs"][:, 0].max() == 3031


def bad_calls(kind):
    z, a = np.zeros(3, np.float32), np.zeros(2, np.int32)
    calls = {
        "obs shape": lambda b: b.add(np.zeros(4, np.float32), a, 0.0, z, False),
        "obs dtype": lambda b: b.add(z.astype(np.float64), a, 0.0, z, False),
        "action dtype": lambda b: b.add(z, a.astype(np.float32), 0.0, z, False),
        "next_obs shape": lambda b: b.add(z, a, 0.0, np.zeros((1, 3), np.float32), False),
        "batch rows differ": lambda b: b.add(np.zeros((2, 3), np.float32), np.zeros((3, 2),
                                             np.int32), np.zeros(2), np.zeros((2, 3),
                                             np.float32), np.zeros(2, bool)),
        "reward NaN": lambda b: b.add(z, a, float("nan"), z, False),
        "done not bool": lambda b: b.add(z, a, 0.0, z, 2),
        "sample too many": lambda b: b.sample(len(b) + 1),
        "sample zero": lambda b: b.sample(0),
    }
    if kind is PrioritizedReplayBuffer:
        calls.update({
            "negative priority": lambda b: b.update_priorities([0, 1], [1.0, -1.0]),
            "NaN priority": lambda b: b.update_priorities([0, 1], [1.0, float("nan")]),
            "inf priority": lambda b: b.update_priorities([0], [float("inf")]),
            "index past len": lambda b: b.update_priorities([0, len(b)], [1.0, 1.0]),
            "negative index": lambda b: b.update_priorities([-1], [1.0]),
            "length mismatch": lambda b: b.update_priorities([0, 1], [1.0]),
            "negative beta": lambda b: b.sample(2, beta=-1.0),
        })
    return calls


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_input_raises_value_error_and_changes_nothing(kind, backend):
    buf = make(kind, backend, capacity=4)
    fill(buf, 3)
    for name, call in bad_calls(kind).items():
        before = buf.state_dict()
        with pytest.raises(ValueError):
            call(buf)
        assert_state_equal(before, buf.state_dict()), name


@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_constructor_arguments_raise(backend):
    with pytest.raises(ValueError, match="capacity"):
        ReplayBuffer(0, (3,), backend=backend)
    with pytest.raises(ValueError, match="obs_dtype"):
        ReplayBuffer(4, (3,), torch.bfloat16, backend=backend)
    with pytest.raises(ValueError, match="alpha"):
        PrioritizedReplayBuffer(4, (3,), alpha=float("nan"), backend=backend)


def test_cpp_is_the_default_backend_when_built():
    if _ext.cpp_module() is None:
        pytest.skip("hubkit._C not built")
    assert ReplayBuffer(4, (3,)).backend == "cpp"


def test_cpp_core_rejects_arrays_of_the_wrong_size():
    if _ext.cpp_module() is None:
        pytest.skip("hubkit._C not built")
    core = _ext.cpp_module().ReplayCore(4, [3], np.dtype(np.float32), [], np.dtype(np.int64),
                                        False, 1.0)
    with pytest.raises(ValueError, match="obs"):
        core.add(np.zeros(2, np.float32), np.zeros(1, np.int64), np.zeros(1, np.float32),
                 np.zeros(3, np.float32), np.zeros(1, bool))
    assert len(core) == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_image_observations_round_trip_through_a_large_buffer(backend):
    # 200 x 2 x 84*84*4 bytes = 5.6 MB: past the size where the C++ core maps its storage
    buf = ReplayBuffer(200, (84, 84, 4), np.uint8, backend=backend)
    frames = np.random.default_rng(0).integers(0, 256, (250, 84, 84, 4), dtype=np.uint8)
    for i in range(250):
        buf.add(frames[i], i % 4, 1.0, frames[(i + 1) % 250], False)
    batch = buf.sample(64, generator=torch.Generator().manual_seed(0))
    ids = [int(np.flatnonzero((frames == o.numpy()).all(axis=(1, 2, 3)))[0]) for o in batch.obs]
    assert all(i >= 50 for i in ids)  # the first 50 were overwritten
    want = np.stack([frames[(i + 1) % 250] for i in ids])
    np.testing.assert_array_equal(batch.next_obs.numpy(), want)
    np.testing.assert_array_equal(batch.action.numpy(), np.array(ids) % 4)
