// See bpe.h. Training keeps, for every pair, its count over all unique chunks
// (weighted by how often each chunk occurs) and the chunks it occurs in. A
// merge touches only those chunks and adjusts the counts of the pairs around
// each merged position; a max-heap of (count, pair) with lazy deletion finds
// the next pair without rescanning.
#include "bpe/bpe.h"

#include <algorithm>
#include <queue>
#include <thread>

namespace hubkit::bpe {
namespace {

using Counts = std::unordered_map<std::string_view, std::int64_t>;

// Runs fn(t, begin, end) on `threads` threads over [0, n) split in contiguous parts.
template <typename Fn>
void parallel_ranges(std::size_t n, int threads, Fn fn) {
  const std::size_t parts = std::max<std::size_t>(1, std::min<std::size_t>(threads, n / 4096 + 1));
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < parts; ++t) {
    const std::size_t begin = n * t / parts, end = n * (t + 1) / parts;
    if (t + 1 == parts) {
      fn(t, begin, end);  // the calling thread takes the last part
    } else {
      pool.emplace_back(fn, t, begin, end);
    }
  }
  for (auto& th : pool) th.join();
}

Counts count_unique(const Chunks& chunks, int threads) {
  std::vector<Counts> partial(std::max(1, threads));
  parallel_ranges(chunks.size(), threads, [&](std::size_t t, std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) ++partial[t][chunks[i]];
  });
  for (std::size_t t = 1; t < partial.size(); ++t) {
    for (const auto& [chunk, n] : partial[t]) partial[0][chunk] += n;
  }
  return std::move(partial[0]);
}

struct HeapEntry {
  std::int64_t count;
  std::int32_t a, b;
};

// Orders the heap: the larger count on top; on equal counts the smaller pair (the tie rule).
struct Lower {
  bool operator()(const HeapEntry& x, const HeapEntry& y) const {
    if (x.count != y.count) return x.count < y.count;
    return std::tie(x.a, x.b) > std::tie(y.a, y.b);
  }
};

class Trainer {
 public:
  Trainer(const Counts& unique) {
    words_.reserve(unique.size());
    for (const auto& [chunk, n] : unique) {
      words_.emplace_back(chunk.begin(), chunk.end());
      for (auto& id : words_.back()) id = static_cast<unsigned char>(id);
      freqs_.push_back(n);
    }
    stamp_.assign(words_.size(), -1);
    for (std::size_t w = 0; w < words_.size(); ++w) {
      const auto& ids = words_[w];
      for (std::size_t i = 0; i + 1 < ids.size(); ++i) {
        const auto key = pair_key(ids[i], ids[i + 1]);
        counts_[key] += freqs_[w];
        where_[key].push_back(static_cast<std::int32_t>(w));
      }
    }
    for (const auto& [key, n] : counts_) push(key, n);
  }

  std::vector<Pair> run(std::int64_t num_merges) {
    std::vector<Pair> merges;
    while (static_cast<std::int64_t>(merges.size()) < num_merges && !heap_.empty()) {
      const HeapEntry top = heap_.top();
      heap_.pop();
      const auto key = pair_key(top.a, top.b);
      const auto it = counts_.find(key);
      const std::int64_t now = it == counts_.end() ? 0 : it->second;
      if (now != top.count) {  // stale: counts only fall, so re-queue the true count
        if (now > 0) heap_.push({now, top.a, top.b});
        continue;
      }
      const auto step = static_cast<std::int32_t>(merges.size());
      merges.emplace_back(top.a, top.b);
      apply(top.a, top.b, 256 + step, step);
    }
    return merges;
  }

 private:
  void push(std::uint64_t key, std::int64_t n) {
    heap_.push({n, static_cast<std::int32_t>(key >> 32), static_cast<std::int32_t>(key & 0xffffffffu)});
  }

  void add(std::int32_t x, std::int32_t y, std::int64_t delta, std::int32_t new_id, std::int32_t w) {
    const auto key = pair_key(x, y);
    counts_[key] += delta;
    if (delta > 0 && (x == new_id || y == new_id)) {
      where_[key].push_back(w);
      touched_.push_back(key);
    }
  }

  // Merge (a, b) -> new_id in every chunk that holds it, adjusting neighbouring pair counts.
  void apply(std::int32_t a, std::int32_t b, std::int32_t new_id, std::int32_t step) {
    const auto key = pair_key(a, b);
    std::vector<std::int32_t> holders = std::move(where_[key]);
    where_.erase(key);
    touched_.clear();
    std::vector<std::int32_t> out;
    for (const std::int32_t w : holders) {
      if (stamp_[w] == step) continue;  // listed twice
      stamp_[w] = step;
      auto& ids = words_[w];
      const std::int64_t f = freqs_[w];
      out.clear();
      for (std::size_t i = 0; i < ids.size();) {
        if (i + 1 < ids.size() && ids[i] == a && ids[i + 1] == b) {
          // subtle: the left neighbour is out.back(), which may itself be new_id
          // (as in "aaaa"), so overlapping occurrences are counted as the reference does.
          if (!out.empty()) {
            add(out.back(), a, -f, new_id, w);
            add(out.back(), new_id, f, new_id, w);
          }
          add(a, b, -f, new_id, w);
          if (i + 2 < ids.size()) {
            add(b, ids[i + 2], -f, new_id, w);
            add(new_id, ids[i + 2], f, new_id, w);
          }
          out.push_back(new_id);
          i += 2;
        } else {
          out.push_back(ids[i]);
          i += 1;
        }
      }
      ids.swap(out);
    }
    counts_.erase(key);
    std::sort(touched_.begin(), touched_.end());
    touched_.erase(std::unique(touched_.begin(), touched_.end()), touched_.end());
    for (const auto k : touched_) {
      const auto n = counts_[k];
      if (n > 0) push(k, n);
    }
  }

  std::vector<std::vector<std::int32_t>> words_;
  std::vector<std::int64_t> freqs_;
  std::vector<std::int32_t> stamp_;  // last merge step that rewrote each word
  std::unordered_map<std::uint64_t, std::int64_t> counts_;
  std::unordered_map<std::uint64_t, std::vector<std::int32_t>> where_;
  std::vector<std::uint64_t> touched_;
  std::priority_queue<HeapEntry, std::vector<HeapEntry>, Lower> heap_;
};

}  // namespace

std::vector<Pair> train(const Chunks& chunks, std::int64_t num_merges, int threads) {
  const Counts unique = count_unique(chunks, threads);
  return Trainer(unique).run(num_merges);
}

Encoder::Encoder(const std::vector<Pair>& merges) {
  for (std::size_t i = 0; i < merges.size(); ++i) {
    ranks_.emplace(pair_key(merges[i].first, merges[i].second), static_cast<std::int32_t>(i));
  }
}

void Encoder::encode_chunk(std::string_view chunk, std::vector<std::int32_t>& out) const {
  std::vector<std::int32_t> ids(chunk.begin(), chunk.end());
  for (auto& id : ids) id = static_cast<unsigned char>(id);
  while (ids.size() >= 2) {
    std::int32_t best = -1, a = 0, b = 0;  // the lowest merge rank among adjacent pairs
    for (std::size_t i = 0; i + 1 < ids.size(); ++i) {
      const auto it = ranks_.find(pair_key(ids[i], ids[i + 1]));
      if (it != ranks_.end() && (best < 0 || it->second < best)) {
        best = it->second, a = ids[i], b = ids[i + 1];
      }
    }
    if (best < 0) break;
    std::size_t j = 0;
    for (std::size_t i = 0; i < ids.size(); ++j) {
      if (i + 1 < ids.size() && ids[i] == a && ids[i + 1] == b) {
        ids[j] = 256 + best;
        i += 2;
      } else {
        ids[j] = ids[i];
        i += 1;
      }
    }
    ids.resize(j);
  }
  out.insert(out.end(), ids.begin(), ids.end());
}

void Encoder::encode(const Chunks& chunks, int threads, std::vector<std::int32_t>& ids,
                     std::vector<std::int64_t>& offsets) const {
  const int parts = std::max(1, threads);
  std::vector<std::vector<std::int32_t>> part_ids(parts);
  std::vector<std::int64_t> lengths(chunks.size());
  parallel_ranges(chunks.size(), parts, [&](std::size_t t, std::size_t b, std::size_t e) {
    std::unordered_map<std::string_view, std::pair<std::size_t, std::size_t>> seen;
    auto& out = part_ids[t];
    for (std::size_t i = b; i < e; ++i) {
      const std::size_t start = out.size();
      const auto hit = seen.find(chunks[i]);
      if (hit != seen.end()) {
        const auto [from, len] = hit->second;
        for (std::size_t k = 0; k < len; ++k) {
          const std::int32_t id = out[from + k];  // copied first: push_back may reallocate
          out.push_back(id);
        }
      } else {
        encode_chunk(chunks[i], out);
        seen.emplace(chunks[i], std::make_pair(start, out.size() - start));
      }
      lengths[i] = static_cast<std::int64_t>(out.size() - start);
    }
  });
  offsets.assign(chunks.size() + 1, 0);
  for (std::size_t i = 0; i < chunks.size(); ++i) offsets[i + 1] = offsets[i] + lengths[i];
  ids.clear();
  ids.reserve(static_cast<std::size_t>(offsets.back()));
  for (const auto& p : part_ids) ids.insert(ids.end(), p.begin(), p.end());
}

}  // namespace hubkit::bpe
