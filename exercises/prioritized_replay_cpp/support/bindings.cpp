// Makes PrioritizedReplay usable from Python (do not edit). The checker
// compiles it with -DHUBKIT_MODULE=<module name>.
#include <pybind11/pybind11.h>

#include "prioritized_replay.h"

namespace py = pybind11;

PYBIND11_MODULE(HUBKIT_MODULE, m) {
  py::class_<PrioritizedReplay>(m, "PrioritizedReplay")
      .def(py::init<std::int64_t, double>(), py::arg("capacity"), py::arg("alpha"))
      .def("add", &PrioritizedReplay::add, py::arg("item"))
      .def("update", &PrioritizedReplay::update, py::arg("slot"), py::arg("priority"))
      .def("find", &PrioritizedReplay::find, py::arg("prefix"))
      .def("total", &PrioritizedReplay::total)
      .def("leaf", &PrioritizedReplay::leaf, py::arg("slot"))
      .def("item", &PrioritizedReplay::item, py::arg("slot"))
      .def("size", &PrioritizedReplay::size)
      .def("capacity", &PrioritizedReplay::capacity);
}
