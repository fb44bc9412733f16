// Makes bpe_train usable from Python (do not edit). The checker compiles it
// with -DHUBKIT_MODULE=<module name>.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bpe_train.h"

namespace py = pybind11;

PYBIND11_MODULE(HUBKIT_MODULE, m) {
  m.def("train", &bpe_train, py::call_guard<py::gil_scoped_release>(), py::arg("words"),
        py::arg("counts"), py::arg("num_merges"));
}
