// BPE training over unique words (do not edit). Ids 0..255 are the bytes;
// merge i creates id 256 + i. The checker has already split the text with
// the pattern and counted each distinct chunk: words[i] occurs counts[i] times.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

using Pair = std::pair<std::int32_t, std::int32_t>;

// Up to num_merges merges, most frequent pair first; on equal counts the
// smallest (id_a, id_b). Fewer if no pair is left.
std::vector<Pair> bpe_train(const std::vector<std::string>& words,
                            const std::vector<std::int64_t>& counts, std::int64_t num_merges);
