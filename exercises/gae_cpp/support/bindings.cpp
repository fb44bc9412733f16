// Makes gae callable from Python (do not edit). The checker compiles it with
// -DHUBKIT_MODULE=<module name>.
#include <pybind11/pybind11.h>

#include "gae.h"

PYBIND11_MODULE(HUBKIT_MODULE, m) {
  m.def("gae", &gae, pybind11::call_guard<pybind11::gil_scoped_release>(),
        pybind11::arg("rewards"), pybind11::arg("values"), pybind11::arg("dones"),
        pybind11::arg("last_value"), pybind11::arg("advantages"), pybind11::arg("returns"),
        pybind11::arg("T"), pybind11::arg("N"), pybind11::arg("gamma"), pybind11::arg("lam"));
}
