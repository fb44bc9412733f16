"""Word embeddings (outline 5.3): word2vec and GloVe from raw text, evaluated and plotted.

Modules: `corpus` (offline text, tokenization, vocabulary), `word2vec` (the
NumPy reference: skip-gram and CBOW with negative sampling, subsampling,
the learning-rate schedule), `trainer` (trains with the reference or the
lock-free parallel C++ trainer in csrc/word2vec), `glove` (GloVe's weighted
least squares on the co-occurrence matrix), `evaluate` (word similarity,
analogies, nearest neighbours, the word2vec text format), `plots` (t-SNE and
UMAP maps) and `train` (`python -m hubkit.embeddings.train`).

How embeddings come to encode meaning: words that appear in the same contexts
get similar vectors, because the same output vectors must score high against
both ("the list is sorted" / "the tuple is sorted" pull `list` and `tuple`
towards the vectors of `sorted`, `is`, `the`). GloVe fits the same statistics
directly: dot products of word vectors approximate the log of how often two
words appear near each other. Regular differences between contexts (plural
nouns appear after "all the", "two") then show as roughly constant vector
offsets, which is what analogies test.
"""
