// The GPT-2 and GPT-4 split patterns, hand-written: the same chunks as the
// `regex` module's findall, without a regex engine. Unicode classes (letter,
// number, white space) come from a table the Python side builds with `regex`
// itself, so both agree on every code point.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "bpe/bpe.h"

namespace hubkit::bpe {

class Pretokenizer {
 public:
  // table[cp]: bit 1 letter (\p{L}), 2 number (\p{N}), 4 white space (\s); kind 2 or 4.
  Pretokenizer(const std::uint8_t* table, std::size_t size, int kind);

  // Appends the chunks of UTF-8 `text` to `out`; their concatenation is `text`.
  void split(std::string_view text, Chunks& out) const;

  int kind() const { return kind_; }

 private:
  std::size_t match_gpt4(const std::vector<std::uint32_t>& cp, std::size_t i) const;
  std::size_t match_gpt2(const std::vector<std::uint32_t>& cp, std::size_t i) const;
  std::uint8_t cls(std::uint32_t c) const { return c < table_.size() ? table_[c] : 0; }

  std::vector<std::uint8_t> table_;
  int kind_;
};

}  // namespace hubkit::bpe
