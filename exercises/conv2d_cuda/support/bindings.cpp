// Makes conv2d_forward callable from Python (do not edit). The checker
// compiles it with -DHUBKIT_MODULE=<module name>.
#include <pybind11/pybind11.h>

#include "conv2d.h"

namespace py = pybind11;

PYBIND11_MODULE(HUBKIT_MODULE, m) {
  m.def("conv2d_forward", &conv2d_forward, py::call_guard<py::gil_scoped_release>(),
        py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("out"), py::arg("n"),
        py::arg("c"), py::arg("h"), py::arg("w"), py::arg("k"), py::arg("r"), py::arg("s"),
        py::arg("p"), py::arg("q"), py::arg("stride"), py::arg("padding"), py::arg("dilation"),
        py::arg("groups"), py::arg("stream"));
}
