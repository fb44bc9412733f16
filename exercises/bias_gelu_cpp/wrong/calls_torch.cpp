// Known wrong: hands the work back to Python's torch.nn.functional.gelu.
#include <pybind11/pybind11.h>

#include "bias_gelu.h"

#include <cmath>
#include <cstring>

namespace py = pybind11;

void bias_gelu_forward(std::uintptr_t x, std::uintptr_t bias, std::uintptr_t out,
                       std::int64_t rows, std::int64_t cols) {
  py::gil_scoped_acquire gil;
  py::object torch = py::module_::import("torch");
  py::object ctypes = py::module_::import("ctypes");
  auto view = [&](std::uintptr_t addr, std::int64_t n) {
    py::object arr = ctypes.attr("c_float").attr("__mul__")(n).attr("from_address")(addr);
    return torch.attr("frombuffer")(arr, py::arg("dtype") = torch.attr("float32"));
  };
  py::object xt = view(x, rows * cols), bt = view(bias, cols), yt = view(out, rows * cols);
  py::object z = xt.attr("view")(rows, cols).attr("__add__")(bt);
  yt.attr("copy_")(torch.attr("nn").attr("functional").attr("gelu")(z).attr("flatten")());
}
