// Generalized advantage estimation (Schulman et al. 2016) over a (T, N) rollout.
//
// One backward sweep over time; the N envs of a step are independent, so the
// inner loop runs over n on contiguous memory and the compiler vectorizes it.
// Python (python/hubkit/rl/gae.py) has checked shapes, dtypes and values.
#include <pybind11/pybind11.h>

#include <cstdint>
#include <vector>

#include "common.h"

namespace hubkit::gae {
namespace {

// rewards, values, dones (T, N) with dones 0/1; last_value (N,).
// Writes advantages and returns (T, N). `carry` holds A_{t+1} for each env.
template <typename F>
void gae_kernel(const F* rewards, const F* values, const F* dones, const F* last_value,
                F* advantages, F* returns, std::int64_t T, std::int64_t N, F gamma, F lam) {
  std::vector<F> carry(static_cast<std::size_t>(N), F(0));
  const F* next_value = last_value;
  for (std::int64_t t = T - 1; t >= 0; --t) {
    const F* r = rewards + t * N;
    const F* v = values + t * N;
    const F* d = dones + t * N;
    F* adv = advantages + t * N;
    F* ret = returns + t * N;
    for (std::int64_t n = 0; n < N; ++n) {
      const F keep = F(1) - d[n];  // 0 when the episode ended at step t: no bootstrap
      const F delta = r[n] + gamma * keep * next_value[n] - v[n];
      const F a = delta + gamma * lam * keep * carry[n];
      carry[n] = a;
      adv[n] = a;
      ret[n] = a + v[n];
    }
    next_value = v;
  }
}

void gae_cpu(std::uintptr_t rewards, std::uintptr_t values, std::uintptr_t dones,
             std::uintptr_t last_value, std::uintptr_t advantages, std::uintptr_t returns,
             std::int64_t T, std::int64_t N, double gamma, double lam, int dtype) {
  switch (to_dtype(dtype)) {
    case DType::f32:
      gae_kernel<float>(as_ptr<const float>(rewards), as_ptr<const float>(values),
                        as_ptr<const float>(dones), as_ptr<const float>(last_value),
                        as_ptr<float>(advantages), as_ptr<float>(returns), T, N,
                        static_cast<float>(gamma), static_cast<float>(lam));
      break;
    case DType::f64:
      gae_kernel<double>(as_ptr<const double>(rewards), as_ptr<const double>(values),
                         as_ptr<const double>(dones), as_ptr<const double>(last_value),
                         as_ptr<double>(advantages), as_ptr<double>(returns), T, N, gamma, lam);
      break;
    default:
      throw std::invalid_argument("gae: dtype must be float32 or float64");
  }
}

}  // namespace

void bind_gae(pybind11::module_& m) {
  namespace py = pybind11;
  m.def("gae", &gae_cpu, py::call_guard<py::gil_scoped_release>(), py::arg("rewards"),
        py::arg("values"), py::arg("dones"), py::arg("last_value"), py::arg("advantages"),
        py::arg("returns"), py::arg("T"), py::arg("N"), py::arg("gamma"), py::arg("lam"),
        py::arg("dtype"),
        "GAE over (T, N) rollouts: advantages and returns (float32/float64 addresses)");
}

}  // namespace hubkit::gae
