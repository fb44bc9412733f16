// hubkit._cuda: the one place where CUDA kernels meet Python.
//
// Same conventions as bindings.cpp, plus the tensors' device index and a stream
// address (torch.cuda.current_stream(device).cuda_stream) on every launch: each
// entry point makes that device current for the launch (DeviceGuard) and restores
// the caller's.
#include <cuda_runtime_api.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bias_gelu/bias_gelu_cuda.h"
#include "conv2d/conv2d_cuda.h"

namespace py = pybind11;
using release_gil = py::call_guard<py::gil_scoped_release>;

namespace {

// Number of usable devices; 0 (not an error) on a machine with no driver.
int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error
    return 0;
  }
  return n;
}

}  // namespace

PYBIND11_MODULE(_cuda, m) {
  m.doc() = "hubkit CUDA kernels";
  m.def("device_count", &device_count);
  m.attr("cuda_runtime_version") = CUDART_VERSION;

  m.def("bias_gelu_forward", &hubkit::bias_gelu_forward_cuda, release_gil(),
        py::arg("x"), py::arg("bias"), py::arg("out"), py::arg("rows"), py::arg("cols"),
        py::arg("dtype"), py::arg("device"), py::arg("stream"));
  m.def("bias_gelu_backward", &hubkit::bias_gelu_backward_cuda, release_gil(),
        py::arg("grad_out"), py::arg("x"), py::arg("bias"), py::arg("grad_in"),
        py::arg("rows"), py::arg("cols"), py::arg("dtype"), py::arg("device"), py::arg("stream"));

  m.def("conv2d_forward", &hubkit::conv2d_forward_cuda, release_gil(),
        py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("out"), py::arg("dims"),
        py::arg("dtype"), py::arg("device"), py::arg("stream"));
  m.def("conv2d_forward_tc", &hubkit::conv2d_forward_tc_cuda, release_gil(),
        py::arg("x_nhwc"), py::arg("weight_krsc"), py::arg("bias"), py::arg("out"),
        py::arg("dims"), py::arg("dtype"), py::arg("device"), py::arg("stream"));
  m.def("conv2d_grad_weight_tc", &hubkit::conv2d_grad_weight_tc_cuda, release_gil(),
        py::arg("grad_out_nhwc"), py::arg("x_nhwc"), py::arg("workspace"), py::arg("dims"),
        py::arg("dtype"), py::arg("device"), py::arg("stream"));
  m.def("conv2d_backward", &hubkit::conv2d_backward_cuda, release_gil(),
        py::arg("grad_out"), py::arg("x"), py::arg("weight"), py::arg("grad_x"),
        py::arg("grad_weight"), py::arg("grad_bias"), py::arg("dims"), py::arg("dtype"),
        py::arg("device"), py::arg("stream"));
}
