// See pretokenize.h. Each match_* returns the end (in code points) of the
// chunk that starts at i, trying the pattern's alternatives in order, as a
// backtracking regex engine does.
#include "bpe/pretokenize.h"

#include <stdexcept>

namespace hubkit::bpe {
namespace {

constexpr std::uint8_t kL = 1, kN = 2, kS = 4;

// Code points of valid UTF-8 `text`, and the byte offset where each starts (plus the end).
void decode(std::string_view text, std::vector<std::uint32_t>& cp, std::vector<std::size_t>& at) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned char c = s[i];
    std::size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (i + len > n) len = n - i;
    std::uint32_t v = len == 1 ? c : len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
    for (std::size_t k = 1; k < len; ++k) v = (v << 6) | (s[i + k] & 0x3F);
    cp.push_back(v);
    at.push_back(i);
    i += len;
  }
  at.push_back(n);
}

// (?i:...) for the contraction letters: ASCII case, and U+017F (long s) folds to s.
std::uint32_t fold(std::uint32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  return c == 0x17F ? 's' : c;
}

bool newline(std::uint32_t c) { return c == '\r' || c == '\n'; }

}  // namespace

Pretokenizer::Pretokenizer(const std::uint8_t* table, std::size_t size, int kind)
    : table_(table, table + size), kind_(kind) {
  if (kind != 2 && kind != 4) throw std::invalid_argument("kind: must be 2 (GPT-2) or 4 (GPT-4)");
}

std::size_t Pretokenizer::match_gpt4(const std::vector<std::uint32_t>& cp, std::size_t i) const {
  const std::size_t n = cp.size();
  auto has = [&](std::size_t k, std::uint8_t bit) { return k < n && (cls(cp[k]) & bit); };
  auto sym = [&](std::size_t k) { return k < n && !(cls(cp[k]) & (kL | kN | kS)); };
  // '(?i:[sdmt]|ll|ve|re)
  if (cp[i] == '\'' && i + 1 < n) {
    const auto a = fold(cp[i + 1]);
    if (a == 's' || a == 'd' || a == 'm' || a == 't') return i + 2;
    if (i + 2 < n) {
      const auto b = fold(cp[i + 2]);
      if ((a == 'l' && b == 'l') || (a == 'v' && b == 'e') || (a == 'r' && b == 'e')) return i + 3;
    }
  }
  // [^\r\n\p{L}\p{N}]?+\p{L}+
  std::size_t j = i;
  if (!has(i, kL) && !newline(cp[i]) && !has(i, kN)) j = i + 1;
  if (has(j, kL)) {
    while (has(j, kL)) ++j;
    return j;
  }
  // \p{N}{1,3}
  if (has(i, kN)) {
    j = i;
    while (j < i + 3 && has(j, kN)) ++j;
    return j;
  }
  //  ?[^\s\p{L}\p{N}]++[\r\n]*
  j = (cp[i] == ' ' && sym(i + 1)) ? i + 1 : i;
  if (sym(j)) {
    while (sym(j)) ++j;
    while (j < n && newline(cp[j])) ++j;
    return j;
  }
  // \s*[\r\n] | \s+(?!\S) | \s+  (cp[i] is white space here)
  std::size_t e = i;
  while (has(e, kS)) ++e;
  for (std::size_t k = e; k > i; --k) {
    if (newline(cp[k - 1])) return k;
  }
  if (e == n) return e;
  return e - 1 > i ? e - 1 : e;
}

std::size_t Pretokenizer::match_gpt2(const std::vector<std::uint32_t>& cp, std::size_t i) const {
  const std::size_t n = cp.size();
  auto has = [&](std::size_t k, std::uint8_t bit) { return k < n && (cls(cp[k]) & bit); };
  auto sym = [&](std::size_t k) { return k < n && !(cls(cp[k]) & (kL | kN | kS)); };
  // '(?:[sdmt]|ll|ve|re)
  if (cp[i] == '\'' && i + 1 < n) {
    const auto a = cp[i + 1];
    if (a == 's' || a == 'd' || a == 'm' || a == 't') return i + 2;
    if (i + 2 < n) {
      const auto b = cp[i + 2];
      if ((a == 'l' && b == 'l') || (a == 'v' && b == 'e') || (a == 'r' && b == 'e')) return i + 3;
    }
  }
  //  ?\p{L}+ |  ?\p{N}+
  for (const std::uint8_t bit : {kL, kN}) {
    std::size_t j = (cp[i] == ' ' && has(i + 1, bit)) ? i + 1 : i;
    if (has(j, bit)) {
      while (has(j, bit)) ++j;
      return j;
    }
  }
  //  ?[^\s\p{L}\p{N}]+
  std::size_t j = (cp[i] == ' ' && sym(i + 1)) ? i + 1 : i;
  if (sym(j)) {
    while (sym(j)) ++j;
    return j;
  }
  // \s+(?!\S) | \s+
  std::size_t e = i;
  while (has(e, kS)) ++e;
  if (e == n) return e;
  return e - 1 > i ? e - 1 : e;
}

void Pretokenizer::split(std::string_view text, Chunks& out) const {
  std::vector<std::uint32_t> cp;
  std::vector<std::size_t> at;
  cp.reserve(text.size());
  at.reserve(text.size() + 1);
  decode(text, cp, at);
  for (std::size_t i = 0; i < cp.size();) {
    std::size_t j = kind_ == 4 ? match_gpt4(cp, i) : match_gpt2(cp, i);
    if (j <= i) j = i + 1;  // cannot happen: every code point is L, N, S or a symbol
    out.emplace_back(text.data() + at[i], at[j] - at[i]);
    i = j;
  }
}

}  // namespace hubkit::bpe
