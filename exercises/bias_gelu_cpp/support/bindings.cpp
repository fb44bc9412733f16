// Makes bias_gelu_forward callable from Python (do not edit). The checker
// compiles it with -DHUBKIT_MODULE=<module name>.
#include <pybind11/pybind11.h>

#include "bias_gelu.h"

PYBIND11_MODULE(HUBKIT_MODULE, m) {
  m.def("bias_gelu_forward", &bias_gelu_forward,
        pybind11::call_guard<pybind11::gil_scoped_release>(), pybind11::arg("x"),
        pybind11::arg("bias"), pybind11::arg("out"), pybind11::arg("rows"),
        pybind11::arg("cols"));
}
