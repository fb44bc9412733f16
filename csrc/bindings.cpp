// hubkit._C: the one place where C++ kernels meet Python.
//
// Every function takes raw addresses (tensor.data_ptr()), sizes and a dtype
// code, and releases the GIL while it works. Python validates arguments first.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bias_gelu/bias_gelu.h"
#include "conv2d/conv2d.h"
#include "lstm/lstm.h"
#include "common.h"

namespace hubkit::replay { void bind_replay(pybind11::module_& m); }
namespace hubkit::bpe { void bind_bpe(pybind11::module_& m); }
namespace hubkit::word2vec { void bind_word2vec(pybind11::module_& m); }
namespace hubkit::search { void bind_search(pybind11::module_& m); }
namespace hubkit::gae { void bind_gae(pybind11::module_& m); }
namespace hubkit::winograd { void bind_winograd(pybind11::module_& m); }

namespace py = pybind11;
using release_gil = py::call_guard<py::gil_scoped_release>;

PYBIND11_MODULE(_C, m) {
  m.doc() = "hubkit C++ kernels (CPU)";
  m.def("num_threads", &hubkit::num_threads, "OpenMP threads the kernels use");
#ifdef HUBKIT_OPENMP
  m.attr("openmp") = true;
#else
  m.attr("openmp") = false;
#endif

  m.def("bias_gelu_forward", &hubkit::bias_gelu_forward_cpu, release_gil(),
        py::arg("x"), py::arg("bias"), py::arg("out"), py::arg("rows"), py::arg("cols"),
        py::arg("dtype"));
  m.def("bias_gelu_backward", &hubkit::bias_gelu_backward_cpu, release_gil(),
        py::arg("grad_out"), py::arg("x"), py::arg("bias"), py::arg("grad_in"),
        py::arg("rows"), py::arg("cols"), py::arg("dtype"));

  m.def("conv2d_forward", &hubkit::conv2d_forward_cpu, release_gil(),
        py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("out"), py::arg("dims"),
        py::arg("dtype"));
  m.def("conv2d_backward", &hubkit::conv2d_backward_cpu, release_gil(),
        py::arg("grad_out"), py::arg("x"), py::arg("weight"), py::arg("grad_x"),
        py::arg("grad_weight"), py::arg("grad_bias"), py::arg("dims"), py::arg("dtype"));
  m.def("lstm_forward", &hubkit::lstm_forward_cpu, release_gil(), py::arg("bias"),
        py::arg("h0"), py::arg("c0"), py::arg("w_hh"), py::arg("y"), py::arg("saved"),
        py::arg("T"), py::arg("B"), py::arg("H"), py::arg("dtype"));
  m.def("lstm_backward", &hubkit::lstm_backward_cpu, release_gil(), py::arg("grad_y"),
        py::arg("grad_hn"), py::arg("grad_cn"), py::arg("c0"), py::arg("w_hh"),
        py::arg("saved"), py::arg("dz"), py::arg("grad_h0"), py::arg("grad_c0"), py::arg("T"),
        py::arg("B"), py::arg("H"), py::arg("dtype"));
  hubkit::replay::bind_replay(m);  // rl: ReplayCore (csrc/replay/replay_bind.cpp)
  hubkit::bpe::bind_bpe(m);  // tokenizers: bpe_train, BPEEncoder (csrc/bpe/bpe_bind.cpp)
  hubkit::word2vec::bind_word2vec(m);  // embeddings: word2vec_train (csrc/word2vec/)
  hubkit::search::bind_search(m);  // search: topk_similarity, HNSW (csrc/search/search_bind.cpp)
  hubkit::gae::bind_gae(m);  // rl: gae (csrc/gae/gae.cpp)
  hubkit::winograd::bind_winograd(m);  // cnn: Winograd conv2d (csrc/conv2d/winograd.cpp)
}
