// pybind11 glue for hubkit::search: exact top-k (raw addresses) and the HNSW graph.
#include <pybind11/pybind11.h>

#include "search/topk.h"

namespace py = pybind11;

namespace hubkit::search {

void bind_search(py::module_& m) {
  m.def("topk_similarity_forward", &topk_similarity_cpu,
        py::call_guard<py::gil_scoped_release>(), py::arg("queries"), py::arg("keys"),
        py::arg("scores"), py::arg("indices"), py::arg("Q"), py::arg("N"), py::arg("D"),
        py::arg("k"), py::arg("cosine"));
}

}  // namespace hubkit::search
