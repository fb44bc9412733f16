// Byte-level BPE: training with incremental pair counts and a priority queue,
// and multi-threaded encoding. The spec is python/hubkit/tokenizers/reference.py:
// merge i creates id 256 + i; the most frequent pair wins, ties go to the
// smallest (id_a, id_b); pair counts include overlapping pairs.
#pragma once

#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace hubkit::bpe {

using Pair = std::pair<std::int32_t, std::int32_t>;

// The chunks a split pattern found in the training text, as UTF-8 views.
using Chunks = std::vector<std::string_view>;

// Up to num_merges merges learned from `chunks` (fewer when no pair is left).
// Unique chunks are counted on `threads` threads; merges run on one.
std::vector<Pair> train(const Chunks& chunks, std::int64_t num_merges, int threads);

// Encodes chunks with a fixed list of merges.
class Encoder {
 public:
  explicit Encoder(const std::vector<Pair>& merges);

  // ids of every chunk, concatenated; offsets[i] is where chunk i starts (size N + 1).
  void encode(const Chunks& chunks, int threads, std::vector<std::int32_t>& ids,
              std::vector<std::int64_t>& offsets) const;

  // ids of one chunk, appended to `out`.
  void encode_chunk(std::string_view chunk, std::vector<std::int32_t>& out) const;

 private:
  std::unordered_map<std::uint64_t, std::int32_t> ranks_;  // pair key -> merge index
};

inline std::uint64_t pair_key(std::int32_t a, std::int32_t b) {
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) |
         static_cast<std::uint32_t>(b);
}

}  // namespace hubkit::bpe
