// Shared helpers for hubkit's C++ kernels: raw-pointer views and a parallel loop.
//
// Python checks every argument before calling in (shapes, dtypes, devices,
// contiguity), so kernels here trust their inputs and stay short.
#pragma once

#include <cstdint>
#include <cstddef>
#include <stdexcept>
#include <string>

#ifdef HUBKIT_OPENMP
#include <omp.h>
#endif

namespace hubkit {

// A pointer handed over from Python as an integer (tensor.data_ptr()).
template <typename T>
inline T* as_ptr(std::uintptr_t address) {
  return reinterpret_cast<T*>(address);
}

// Element type codes shared with python/hubkit/_ext.py (DTYPE_CODES).
enum class DType : int { f32 = 0, f64 = 1, f16 = 2, bf16 = 3, u8 = 4, i64 = 5, i32 = 6, b8 = 7 };

inline DType to_dtype(int code) {
  if (code < 0 || code > 7) throw std::invalid_argument("unknown dtype code " + std::to_string(code));
  return static_cast<DType>(code);
}

inline int num_threads() {
#ifdef HUBKIT_OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

}  // namespace hubkit
