// pybind11 glue for hubkit::word2vec: addresses and sizes in, totals out, GIL released.
//
// hubkit.embeddings.trainer has checked shapes, dtypes, contiguity and ranges.
#include <pybind11/pybind11.h>

#include <cstdint>

#include "word2vec/word2vec.h"

namespace py = pybind11;

namespace hubkit::word2vec {
namespace {

template <typename T>
T* ptr(std::uintptr_t address) {
  return reinterpret_cast<T*>(address);
}

py::tuple train_py(std::uintptr_t ids, std::uintptr_t offsets, std::int64_t first,
                   std::int64_t last, std::uintptr_t keep, std::uintptr_t table,
                   std::int64_t table_size, std::uintptr_t w_in, std::uintptr_t w_out,
                   std::int64_t dim, std::uintptr_t rng, int threads, bool cbow, int window,
                   int negative, double alpha, double min_alpha, std::int64_t base,
                   std::int64_t total, bool compute_loss) {
  const Corpus corpus{ptr<const std::int32_t>(ids), ptr<const std::int64_t>(offsets), first, last};
  const Noise noise{ptr<const float>(keep), ptr<const std::int32_t>(table), table_size};
  const Model model{ptr<float>(w_in), ptr<float>(w_out), dim};
  const Options opt{cbow, window, negative, alpha, min_alpha, base, total, compute_loss};
  Totals t;
  {
    py::gil_scoped_release release;
    t = train(corpus, noise, model, opt, ptr<std::uint64_t>(rng), threads);
  }
  return py::make_tuple(t.loss, t.examples, t.words);
}

}  // namespace

void bind_word2vec(py::module_& m) {
  m.def("word2vec_train", &train_py, py::arg("ids"), py::arg("offsets"), py::arg("first"),
        py::arg("last"), py::arg("keep"), py::arg("table"), py::arg("table_size"),
        py::arg("w_in"), py::arg("w_out"), py::arg("dim"), py::arg("rng"), py::arg("threads"),
        py::arg("cbow"), py::arg("window"), py::arg("negative"), py::arg("alpha"),
        py::arg("min_alpha"), py::arg("base"), py::arg("total"), py::arg("compute_loss"),
        "(summed loss, examples, words kept) of training sentences [first, last) in place "
        "(addresses of NumPy arrays; GIL released)");
}

}  // namespace hubkit::word2vec
