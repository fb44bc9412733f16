"""Retrieval for RAG: a TF-IDF index, top-k search, and an answer whose citations point at chunks.

Tokens: lower-case runs of letters and digits (re.findall(r"[a-z0-9]+", text.lower())).
Weights: tf = how often the token occurs in the chunk,
         idf = log((N + 1) / (df + 1)) + 1, with N chunks and df the chunks containing it;
a chunk's vector is tf * idf, divided by its L2 norm; a query's likewise (tokens unknown
to the index are dropped). The score is the dot product (cosine similarity).
"""

import math
import re


def tokenize(text: str) -> list:
    return re.findall(r"[a-z0-9]+", text.lower())


def build_index(chunks: list) -> dict:
    """{"idf": {token: idf}, "vectors": [{token: weight} per chunk, L2-normalised]}."""
    # BEGIN SOLUTION
    # starter> # Step 1: document frequencies, idf, then one normalised tf * idf dict per chunk.
    # starter> raise NotImplementedError("not implemented yet")
    docs = [tokenize(c) for c in chunks]
    df: dict = {}
    for d in docs:
        for t in set(d):
            df[t] = df.get(t, 0) + 1
    idf = {t: math.log((len(docs) + 1) / (f + 1)) + 1 for t, f in df.items()}
    return {"idf": idf, "vectors": [vectorize(d, idf) for d in docs]}
    # END SOLUTION


def vectorize(tokens: list, idf: dict) -> dict:
    """tf * idf for the tokens idf knows, L2-normalised (an empty dict for none)."""
    # BEGIN SOLUTION
    # starter> raise NotImplementedError("not implemented yet")
    vec: dict = {}
    for t in tokens:
        if t in idf:
            vec[t] = vec.get(t, 0.0) + idf[t]
    norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
    return {t: v / norm for t, v in vec.items()}
    # END SOLUTION


def search(index: dict, query: str, k: int) -> list:
    """Indices of the k best chunks for `query`, best first (ties: lower index first)."""
    # BEGIN SOLUTION
    # starter> # Step 2: cosine scores, then the k best.
    # starter> raise NotImplementedError("not implemented yet")
    q = vectorize(tokenize(query), index["idf"])
    scores = [sum(w * vec.get(t, 0.0) for t, w in q.items()) for vec in index["vectors"]]
    return sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:k]
    # END SOLUTION


def answer(chat, chunks: list, question: str, k: int) -> dict:
    """Retrieve k chunks, ask the model, and map its citations back to chunk indices.

    The prompt (one user message) lists the hits as "[1] text", "[2] text", ... then
    "Question: ...". The model cites sources as [n]. Returns {"answer": the reply's
    content, "sources": the chunk indices cited, in order of first citation}.
    """
    # BEGIN SOLUTION
    # starter> # Step 3: search, build the prompt, call chat, turn each [n] into hits[n - 1].
    # starter> raise NotImplementedError("not implemented yet")
    hits = search(build_index(chunks), question, k)
    sources = "\n".join(f"[{n}] {chunks[i]}" for n, i in enumerate(hits, 1))
    reply = chat([{"role": "system", "content": "Answer from the sources; cite them as [n]."},
                  {"role": "user", "content": f"{sources}\n\nQuestion: {question}"}])
    cited = []
    for n in re.findall(r"\[(\d+)\]", reply["content"]):
        if 1 <= int(n) <= len(hits) and hits[int(n) - 1] not in cited:
            cited.append(hits[int(n) - 1])
    return {"answer": reply["content"], "sources": cited}
    # END SOLUTION
