// pybind11 glue for hubkit::search: exact top-k and the IVF scan (raw addresses), and the HNSW graph
// (NumPy arrays in and out, checked here too, since a saved graph comes from a file).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <stdexcept>
#include <string>

#include "search/hnsw.h"
#include "search/ivf.h"
#include "search/topk.h"

namespace py = pybind11;

namespace hubkit::search {
namespace {

template <typename T>
using Array = py::array_t<T, py::array::c_style | py::array::forcecast>;

void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument(message);
}

// HNSW for Python: the methods of hubkit.search.hnsw.HNSWGraph's batch interface.
class PyHNSW {
 public:
  PyHNSW(std::int64_t dim, int M, int ef_construction) : g_(dim, M, ef_construction) {
    require(dim >= 1, "dim: expected >= 1");
    require(M >= 2, "M: expected >= 2");
    require(ef_construction >= 1, "ef_construction: expected >= 1");
  }

  void add(const Array<float>& x, const Array<std::int32_t>& levels) {
    const std::int64_t n = x.ndim() == 2 ? x.shape(0) : -1;
    require(n >= 0 && x.shape(1) == g_.dim(), "vectors: expected shape (n, dim)");
    require(levels.ndim() == 1 && levels.shape(0) == n, "levels: expected shape (n,)");
    for (std::int64_t i = 0; i < n; ++i) require(levels.at(i) >= 0 && levels.at(i) < 64, "levels: expected values in [0, 64)");
    require(g_.size() + n < (std::int64_t{1} << 31), "vectors: an HNSW graph holds < 2**31 nodes");
    py::gil_scoped_release release;
    g_.add(x.data(), levels.data(), n);
  }

  py::tuple search_batch(const Array<float>& q, std::int64_t k, std::int64_t ef,
                         const py::object& alive) {
    require(q.ndim() == 2 && q.shape(1) == g_.dim(), "queries: expected shape (Q, dim)");
    require(k >= 1 && ef >= 1, "k, ef: expected >= 1");
    Array<bool> mask;
    if (!alive.is_none()) {
      mask = alive.cast<Array<bool>>();
      require(mask.ndim() == 1 && mask.shape(0) == g_.size(), "alive: expected shape (n,)");
    }
    const std::int64_t nq = q.shape(0);
    Array<float> sims({nq, k});
    Array<std::int64_t> nodes({nq, k});
    const bool* alive_ptr = alive.is_none() ? nullptr : mask.data();
    {
      py::gil_scoped_release release;
      g_.search(q.data(), nq, k, ef, alive_ptr, sims.mutable_data(), nodes.mutable_data());
    }
    return py::make_tuple(sims, nodes);
  }

  py::dict to_arrays() const;
  static PyHNSW from_arrays(const py::dict& arrays, int M, int ef_construction);

 private:
  HNSW g_;
};

py::dict PyHNSW::to_arrays() const {
  const std::int64_t n = g_.size(), m = g_.M();
  std::int64_t rows = 0;
  for (auto l : g_.level_) rows += l;
  Array<std::int32_t> levels(n), links0({n, 2 * m}), upper({rows, m});
  Array<float> vectors({n, g_.dim()});
  std::copy(g_.level_.begin(), g_.level_.end(), levels.mutable_data());
  std::copy(g_.vec_.begin(), g_.vec_.end(), vectors.mutable_data());
  std::int32_t* l0 = links0.mutable_data();
  std::int32_t* up = upper.mutable_data();
  std::fill(l0, l0 + n * 2 * m, -1);
  std::fill(up, up + rows * m, -1);
  std::int64_t row = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    for (int layer = 0; layer <= g_.level_[i]; ++layer) {
      const std::int32_t* lk = g_.links(static_cast<std::int32_t>(i), layer);
      std::int32_t* dst = layer == 0 ? l0 + i * 2 * m : up + (row++) * m;
      std::copy(lk + 1, lk + 1 + lk[0], dst);
    }
  }
  Array<std::int64_t> entry(2);
  entry.mutable_at(0) = g_.entry_;
  entry.mutable_at(1) = g_.max_level_;
  py::dict out;
  out["levels"] = levels;
  out["links0"] = links0;
  out["upper"] = upper;
  out["vectors"] = vectors;
  out["entry"] = entry;
  return out;
}

// Copy one saved link row (-1 padded) into a count-prefixed list, checking every node.
void load_links(const std::int32_t* src, std::int64_t width, std::int64_t n, std::int32_t* dst) {
  dst[0] = 0;
  for (std::int64_t j = 0; j < width; ++j) {
    require(src[j] >= -1 && src[j] < n, "arrays: a link points outside the graph");
    if (src[j] >= 0) dst[++dst[0]] = src[j];
  }
}

PyHNSW PyHNSW::from_arrays(const py::dict& arrays, int M, int ef_construction) {
  const auto vectors = arrays["vectors"].cast<Array<float>>();
  const auto levels = arrays["levels"].cast<Array<std::int32_t>>();
  const auto links0 = arrays["links0"].cast<Array<std::int32_t>>();
  const auto upper = arrays["upper"].cast<Array<std::int32_t>>();
  const auto entry = arrays["entry"].cast<Array<std::int64_t>>();
  require(vectors.ndim() == 2, "arrays: vectors must be (n, dim)");
  PyHNSW out(vectors.shape(1), M, ef_construction);
  const std::int64_t n = vectors.shape(0);
  require(levels.ndim() == 1 && levels.shape(0) == n, "arrays: levels must be (n,)");
  require(links0.ndim() == 2 && links0.shape(0) == n && links0.shape(1) == 2 * M, "arrays: links0 must be (n, 2M)");
  require(entry.ndim() == 1 && entry.shape(0) == 2, "arrays: entry must be (2,)");
  std::int64_t rows = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    require(levels.at(i) >= 0 && levels.at(i) < 64, "arrays: levels out of range");
    rows += levels.at(i);
  }
  require(upper.ndim() == 2 && upper.shape(0) == rows && upper.shape(1) == M, "arrays: upper must be (sum of levels, M)");
  HNSW& g = out.g_;
  g.vec_.assign(vectors.data(), vectors.data() + n * vectors.shape(1));
  std::int64_t row = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    g.push_node(levels.at(i));
    load_links(links0.data() + i * 2 * M, 2 * M, n, g.links(static_cast<std::int32_t>(i), 0));
    for (int layer = 1; layer <= levels.at(i); ++layer)
      load_links(upper.data() + (row++) * M, M, n, g.links(static_cast<std::int32_t>(i), layer));
  }
  g.entry_ = static_cast<std::int32_t>(entry.at(0));
  g.max_level_ = static_cast<int>(entry.at(1));
  require(n == 0 ? g.entry_ == -1 : (g.entry_ >= 0 && g.entry_ < n && g.max_level_ == levels.at(g.entry_)),
          "arrays: entry point does not match the graph");
  return out;
}

}  // namespace

void bind_search(py::module_& m) {
  m.def("topk_similarity_forward", &topk_similarity_cpu,
        py::call_guard<py::gil_scoped_release>(), py::arg("queries"), py::arg("keys"),
        py::arg("scores"), py::arg("indices"), py::arg("Q"), py::arg("N"), py::arg("D"),
        py::arg("k"), py::arg("cosine"));
  m.def("ivf_scan", &ivf_scan_cpu, py::call_guard<py::gil_scoped_release>(), py::arg("queries"),
        py::arg("Q"), py::arg("D"), py::arg("probes"), py::arg("nprobe"),
        py::arg("list_vectors"), py::arg("list_rows"), py::arg("list_sizes"), py::arg("alive"),
        py::arg("k"), py::arg("scores"), py::arg("rows"));
  py::class_<PyHNSW>(m, "HNSWCore", "HNSW graph (csrc/search/hnsw.cpp); see hubkit.search.hnsw")
      .def(py::init<std::int64_t, int, int>(), py::arg("dim"), py::arg("M"), py::arg("ef_construction"))
      .def("add", &PyHNSW::add, py::arg("vectors"), py::arg("levels"))
      .def("search_batch", &PyHNSW::search_batch, py::arg("queries"), py::arg("k"), py::arg("ef"),
           py::arg("alive") = py::none())
      .def("to_arrays", &PyHNSW::to_arrays)
      .def_static("from_arrays", &PyHNSW::from_arrays, py::arg("arrays"), py::arg("M"),
                  py::arg("ef_construction"));
}

}  // namespace hubkit::search
