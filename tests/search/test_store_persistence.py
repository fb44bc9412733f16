"""hubkit.search.store: add, replace, delete, compact, reopen; and a writer killed mid-batch."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from hubkit.search.chunking import Chunk
from hubkit.search.store import NewDocument, Store

DIM = 8


def _doc(path: str, n: int, seed: int) -> NewDocument:
    rng = np.random.default_rng(seed)
    chunks = [Chunk(f"{path} chunk {i}", i + 1, i + 1) for i in range(n)]
    return NewDocument(path, chunks, rng.standard_normal((n, DIM)).astype(np.float32),
                       sha256=f"h{seed}")


def test_added_chunks_are_found_by_their_own_vector(tmp_path):
    with Store(tmp_path / "s", dim=DIM) as store:
        docs = [_doc("a.txt", 3, 0), _doc("b.md", 2, 1)]
        store.add(docs)
        hits = store.search(docs[1].vectors[1], k=2)[0]
    assert len(store_rows(tmp_path / "s")) == 5
    assert hits[0].path == "b.md" and hits[0].chunk.text == "b.md chunk 1"
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert hits[0].citation == "b.md:2"


def store_rows(path):
    with Store(path) as store:
        return store.live_rows()


def test_reopen_keeps_documents_and_vectors(tmp_path):
    doc = _doc("a.txt", 4, 0)
    with Store(tmp_path, dim=DIM) as store:
        store.add([doc])
    with Store(tmp_path) as store:
        assert len(store) == 4 and store.dim == DIM and store.metric == "cosine"
        np.testing.assert_array_equal(store.vectors(), doc.vectors)
        assert store.documents()["a.txt"].sha256 == "h0"


def test_adding_a_path_again_replaces_its_chunks(tmp_path):
    with Store(tmp_path, dim=DIM) as store:
        store.add([_doc("a.txt", 4, 0)])
        store.add([_doc("a.txt", 2, 1)])
        assert len(store) == 2 and store.rows == 6  # 4 dead rows until compact
        assert store.documents()["a.txt"].sha256 == "h1"


def test_delete_then_compact_drops_dead_rows_and_keeps_search_right(tmp_path):
    with Store(tmp_path, dim=DIM) as store:
        a, b, c = _doc("a.txt", 3, 0), _doc("b.txt", 2, 1), _doc("c.txt", 4, 2)
        store.add([a, b])
        store.add([c])
        assert store.delete(["a.txt", "missing.txt"]) == 1
        assert [h.path for h in store.search(a.vectors[0], k=9)[0]].count("a.txt") == 0
        assert store.compact() == 3
        assert store.rows == 6 and store.vector_path.name == "vectors-1.f32"
        assert sorted(p.name for p in tmp_path.glob("vectors-*")) == ["vectors-1.f32"]
        for doc in (b, c):
            for i, v in enumerate(doc.vectors):
                top = store.search(v, k=1)[0][0]
                assert (top.path, top.chunk.start_line) == (doc.path, i + 1)


def test_bad_vectors_are_refused_and_change_nothing(tmp_path):
    with Store(tmp_path, dim=DIM) as store:
        bad = NewDocument("x.txt", [Chunk("x", 1, 1)], np.zeros((2, DIM), np.float32))
        with pytest.raises(ValueError, match=r"vectors of 'x.txt' must have shape \(1, 8\)"):
            store.add([bad])
        nan = NewDocument("y.txt", [Chunk("y", 1, 1)], np.full((1, DIM), np.nan, np.float32))
        with pytest.raises(ValueError, match="NaN"):
            store.add([nan])
        assert len(store) == 0 and store.rows == 0
    with pytest.raises(ValueError, match="dim=4 does not match"):
        Store(tmp_path, dim=4)
    with pytest.raises(ValueError, match="dim must be a positive int"):
        Store(tmp_path / "new")


def test_uncommitted_vector_rows_are_ignored_then_overwritten(tmp_path):
    with Store(tmp_path, dim=DIM) as store:
        store.add([_doc("a.txt", 2, 0)])
        store._append_vectors(np.ones((5, DIM), np.float32))  # a crash before the commit
        assert store.vectors().shape == (2, DIM)
        store.add([_doc("b.txt", 1, 1)])
        assert store.vector_path.stat().st_size == 3 * DIM * 4
        assert store.search(_doc("b.txt", 1, 1).vectors, k=1)[0][0].path == "b.txt"


# ------------------------------------------------------------------ crash recovery

WRITER = textwrap.dedent("""
    import os, sys, time
    import numpy as np
    from hubkit.search.chunking import Chunk
    from hubkit.search.store import NewDocument, Store

    class Slow(Store):
        # pause inside a batch (after the vectors, or with the transaction open) so the
        # parent's SIGKILL lands mid-batch
        def _append_vectors(self, vectors):
            first = super()._append_vectors(vectors)
            if PAUSE == "vectors" and batch == STOP:
                print("paused", flush=True); time.sleep(60)
            return first

        def _record(self, docs, first_row):
            super()._record(docs, first_row)
            if PAUSE == "transaction" and batch == STOP:
                print("paused", flush=True); time.sleep(60)

    path, PAUSE, STOP = sys.argv[1], sys.argv[2], int(sys.argv[3])
    store = Slow(path, dim=8)
    rng = np.random.default_rng(0)
    for batch in range(1000):
        docs = [NewDocument(f"b{batch}-{j}.txt", [Chunk(f"b{batch}-{j}/{i}", i + 1, i + 1)
                for i in range(3)], rng.standard_normal((3, 8)).astype(np.float32))
                for j in range(4)]
        store.add(docs)
        print("committed", batch, flush=True)
""")


def _kill_writer_mid_batch(path, pause: str, stop: int) -> list[int]:
    """Run WRITER until it pauses inside batch `stop`, SIGKILL it; the batches it committed."""
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path), pause, str(stop)],
                            stdout=subprocess.PIPE, text=True)
    committed = []
    try:
        for line in proc.stdout:
            if line.startswith("paused"):
                break
            committed.append(int(line.split()[1]))
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    return committed


def _assert_consistent(store: Store, committed: list[int]) -> None:
    docs = store.documents()
    expected = {f"b{b}-{j}.txt" for b in committed for j in range(4)}
    assert set(docs) == expected  # nothing lost, nothing of the killed batch
    assert len(store) == store.rows == 12 * len(committed)  # rows == live chunks
    assert store.vectors().shape == (store.rows, DIM)
    for i, hits in enumerate(store.search(np.asarray(store.vectors()), k=1)):
        assert hits[0].row == i and hits[0].score == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("pause", ["vectors", "transaction"])
def test_writer_killed_mid_batch_loses_nothing_committed_and_shows_no_half_batch(
        tmp_path, pause):
    committed = _kill_writer_mid_batch(tmp_path, pause, stop=3)
    assert committed == [0, 1, 2]
    if pause == "vectors":  # 3 committed batches of 12 rows, and the killed one's 12
        assert (tmp_path / "vectors-0.f32").stat().st_size == 4 * 12 * DIM * 4
    with Store(tmp_path) as store:
        _assert_consistent(store, committed)
        store.add([_doc("after.txt", 2, 9)])  # a new writer appends over the torn tail
        assert store.rows == 38 and len(store) == 38
    with Store(tmp_path) as store:
        assert store.search(_doc("after.txt", 2, 9).vectors, k=1)[1][0].path == "after.txt"


def test_writer_killed_at_a_random_moment_leaves_a_consistent_store(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), "none", "-1"],
                            stdout=subprocess.PIPE, text=True)
    try:
        seen = [proc.stdout.readline() for _ in range(5)]  # then kill while it keeps writing
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert all(line.startswith("committed") for line in seen)
    with Store(tmp_path) as store:
        batches = sorted({int(p.split("-")[0][1:]) for p in store.documents()})
        assert batches == list(range(len(batches))) and len(batches) >= 5
        _assert_consistent(store, batches)


def test_two_writers_at_once_queue_on_the_lock_and_lose_nothing(tmp_path):
    Store(tmp_path, dim=DIM).close()
    def script(w: int) -> str:  # WRITER, 15 batches, its own paths and vectors
        return (WRITER.replace("range(1000)", "range(15)").replace("default_rng(0)",
                f"default_rng({w + 1})").replace('f"b{batch}-{j}.txt"', f'f"w{w}-{{batch}}-{{j}}"'))

    writers = [subprocess.Popen([sys.executable, "-c", script(w), str(tmp_path), "none", "-1"],
                                stdout=subprocess.DEVNULL) for w in range(2)]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    with Store(tmp_path) as store:
        assert len(store.documents()) == 2 * 15 * 4 and len(store) == store.rows == 360
        for i, hits in enumerate(store.search(np.asarray(store.vectors()), k=1)):
            assert hits[0].row == i and hits[0].score == pytest.approx(1.0, abs=1e-5)
