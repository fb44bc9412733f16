// BPE training with incremental pair counts and a priority queue.
//
// The slow way recounts every pair of every word after each merge. Here each
// pair's count and the words it occurs in are kept up to date: a merge
// touches only the words that hold the pair, and only the pairs next to each
// merged position change. A max-heap of (count, pair) gives the next merge;
// its entries may be stale (counts only fall), so a popped entry whose count
// is out of date goes back in with its current count.
#include <algorithm>
#include <queue>
#include <stdexcept>
#include <tuple>
#include <unordered_map>

#include "bpe_train.h"

namespace {

std::uint64_t key(std::int32_t a, std::int32_t b) {
  return (static_cast<std::uint64_t>(a) << 32) | static_cast<std::uint32_t>(b);
}

struct Entry {
  std::int64_t count;
  std::int32_t a, b;
};

// Lower priority: fewer occurrences; on equal counts the larger pair.
struct Lower {
  bool operator()(const Entry& x, const Entry& y) const {
    // BEGIN SOLUTION
    // starter> // Step 3: the heap's order, count first, then the tie rule.
    // starter> throw std::runtime_error("not implemented yet");
    if (x.count != y.count) return x.count < y.count;
    return std::tie(x.a, x.b) > std::tie(y.a, y.b);
    // END SOLUTION
  }
};

struct State {
  std::vector<std::vector<std::int32_t>> words;
  std::vector<std::int64_t> freqs;
  std::unordered_map<std::uint64_t, std::int64_t> counts;
  std::unordered_map<std::uint64_t, std::vector<std::int32_t>> where;
  std::priority_queue<Entry, std::vector<Entry>, Lower> heap;
  std::vector<std::uint64_t> touched;

  void add(std::int32_t x, std::int32_t y, std::int64_t delta, std::int32_t new_id,
           std::int32_t w) {
    const auto k = key(x, y);
    counts[k] += delta;
    if (delta > 0 && (x == new_id || y == new_id)) {
      where[k].push_back(w);
      touched.push_back(k);
    }
  }
};

void init(State& s, const std::vector<std::string>& words, const std::vector<std::int64_t>& counts) {
  // BEGIN SOLUTION
  // starter> // Step 1: each word's bytes as ids 0..255, every adjacent pair counted
  // starter> // (times the word's count) and the word listed under the pair; then one heap
  // starter> // entry per pair.
  // starter> throw std::runtime_error("not implemented yet");
  for (std::size_t w = 0; w < words.size(); ++w) {
    std::vector<std::int32_t> ids;
    for (const char c : words[w]) ids.push_back(static_cast<unsigned char>(c));
    for (std::size_t i = 0; i + 1 < ids.size(); ++i) {
      s.counts[key(ids[i], ids[i + 1])] += counts[w];
      s.where[key(ids[i], ids[i + 1])].push_back(static_cast<std::int32_t>(w));
    }
    s.words.push_back(std::move(ids));
    s.freqs.push_back(counts[w]);
  }
  for (const auto& [k, n] : s.counts) {
    s.heap.push({n, static_cast<std::int32_t>(k >> 32), static_cast<std::int32_t>(k & 0xffffffffu)});
  }
  // END SOLUTION
}

// Merge (a, b) -> new_id in one word, adjusting the counts of the pairs around each merge.
void merge_word(State& s, std::int32_t w, std::int32_t a, std::int32_t b, std::int32_t new_id) {
  // BEGIN SOLUTION
  // starter> // Step 2: walk the word; at each (a, b): the left neighbour L loses (L, a) and
  // starter> // gains (L, new_id), the pair itself loses one, the right neighbour R loses
  // starter> // (b, R) and gains (new_id, R). Every change is times the word's count.
  // starter> throw std::runtime_error("not implemented yet");
  const auto& ids = s.words[w];
  const std::int64_t f = s.freqs[w];
  std::vector<std::int32_t> out;
  for (std::size_t i = 0; i < ids.size();) {
    if (i + 1 < ids.size() && ids[i] == a && ids[i + 1] == b) {
      if (!out.empty()) {  // the left neighbour may itself be new_id ("aaaa")
        s.add(out.back(), a, -f, new_id, w);
        s.add(out.back(), new_id, f, new_id, w);
      }
      s.add(a, b, -f, new_id, w);
      if (i + 2 < ids.size()) {
        s.add(b, ids[i + 2], -f, new_id, w);
        s.add(new_id, ids[i + 2], f, new_id, w);
      }
      out.push_back(new_id);
      i += 2;
    } else {
      out.push_back(ids[i++]);
    }
  }
  s.words[w] = std::move(out);
  // END SOLUTION
}

}  // namespace

std::vector<Pair> bpe_train(const std::vector<std::string>& words,
                            const std::vector<std::int64_t>& counts, std::int64_t num_merges) {
  State s;
  init(s, words, counts);
  std::vector<Pair> merges;
  std::vector<std::int32_t> stamp(words.size(), -1);  // last merge that rewrote each word
  while (static_cast<std::int64_t>(merges.size()) < num_merges && !s.heap.empty()) {
    const Entry top = s.heap.top();
    s.heap.pop();
    const auto k = key(top.a, top.b);
    const std::int64_t now = s.counts.count(k) ? s.counts[k] : 0;
    if (now != top.count) {  // stale entry
      if (now > 0) s.heap.push({now, top.a, top.b});
      continue;
    }
    const auto step = static_cast<std::int32_t>(merges.size());
    merges.emplace_back(top.a, top.b);
    std::vector<std::int32_t> holders = std::move(s.where[k]);
    s.where.erase(k);
    s.touched.clear();
    for (const auto w : holders) {
      if (stamp[w] == step) continue;  // a word listed twice
      stamp[w] = step;
      merge_word(s, w, top.a, top.b, 256 + step);
    }
    s.counts.erase(k);
    std::sort(s.touched.begin(), s.touched.end());
    s.touched.erase(std::unique(s.touched.begin(), s.touched.end()), s.touched.end());
    for (const auto t : s.touched) {
      if (s.counts[t] > 0) {
        s.heap.push({s.counts[t], static_cast<std::int32_t>(t >> 32),
                     static_cast<std::int32_t>(t & 0xffffffffu)});
      }
    }
  }
  return merges;
}
