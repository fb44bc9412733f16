// Makes lstm_forward callable from Python (do not edit). The checker
// compiles it with -DHUBKIT_MODULE=<module name>.
#include <pybind11/pybind11.h>

#include "lstm.h"

PYBIND11_MODULE(HUBKIT_MODULE, m) {
  m.def("lstm_forward", &lstm_forward, pybind11::call_guard<pybind11::gil_scoped_release>(),
        pybind11::arg("x"), pybind11::arg("h0"), pybind11::arg("c0"), pybind11::arg("w_ih"),
        pybind11::arg("w_hh"), pybind11::arg("bias"), pybind11::arg("y"), pybind11::arg("hn"),
        pybind11::arg("cn"), pybind11::arg("T"), pybind11::arg("B"), pybind11::arg("I"),
        pybind11::arg("H"));
}
