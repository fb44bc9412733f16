// IVF-Flat list scan: each query scores the vectors of its probed lists, a heap per query.
//
// Shapes: queries (Q, D) float32; probes (Q, nprobe) int64 list numbers; per list c:
// vectors (sizes[c], D) float32 and rows (sizes[c],) int64 at the addresses in
// list_vectors[c] / list_rows[c]; alive (R,) bool by row or 0 for all alive.
// Out: scores (Q, k) float32 and rows (Q, k) int64, best first (ties: lower row),
// -inf / -1 past the hits found. Python (hubkit.search.ivf) checks every argument.
#pragma once

#include <cstdint>

namespace hubkit::search {

void ivf_scan_cpu(std::uintptr_t queries, std::int64_t Q, std::int64_t D, std::uintptr_t probes,
                  std::int64_t nprobe, std::uintptr_t list_vectors, std::uintptr_t list_rows,
                  std::uintptr_t list_sizes, std::uintptr_t alive, std::int64_t k,
                  std::uintptr_t scores, std::uintptr_t rows);

}  // namespace hubkit::search
