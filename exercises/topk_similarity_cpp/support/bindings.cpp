// Makes topk_similarity_forward callable from Python (do not edit). The checker
// compiles it with -DHUBKIT_MODULE=<module name>.
#include <pybind11/pybind11.h>

#include "topk_similarity.h"

PYBIND11_MODULE(HUBKIT_MODULE, m) {
  m.def("topk_similarity_forward", &topk_similarity_forward,
        pybind11::call_guard<pybind11::gil_scoped_release>(), pybind11::arg("queries"),
        pybind11::arg("keys"), pybind11::arg("scores"), pybind11::arg("indices"),
        pybind11::arg("Q"), pybind11::arg("N"), pybind11::arg("D"), pybind11::arg("k"),
        pybind11::arg("cosine"));
}
