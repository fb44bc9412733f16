// Shared helpers for hubkit's CUDA kernels.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "common.h"

namespace hubkit {

inline cudaStream_t as_stream(std::uintptr_t stream) {
  return reinterpret_cast<cudaStream_t>(stream);
}

// Sets the current CUDA device for one launch and restores the caller's on every exit,
// so a tensor on cuda:1 is computed on cuda:1 whatever the calling thread had set.
// Python passes the tensor's device index with its current stream (hubkit._ext.cuda_launch).
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    if (cudaGetDevice(&previous_) != cudaSuccess) {
      cudaGetLastError();  // clear it: the error below says what failed
      throw std::runtime_error("no CUDA device: cudaGetDevice failed");
    }
    if (device != previous_) {
      const cudaError_t err = cudaSetDevice(device);
      if (err != cudaSuccess) {
        throw std::runtime_error("cudaSetDevice(" + std::to_string(device) +
                                 "): " + cudaGetErrorString(err));
      }
      changed_ = true;
    }
  }
  ~DeviceGuard() {
    if (changed_) cudaSetDevice(previous_);  // never throws from a destructor
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
  bool changed_ = false;
};

// Turn a failed launch into a Python RuntimeError naming the kernel.
inline void check_launch(const char* kernel) {
  cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) {
    throw std::runtime_error(std::string(kernel) + ": " + cudaGetErrorString(err));
  }
}

// Loads and stores in float32 whatever the storage type: half and bfloat16
// kernels accumulate in float32.
template <typename T> __device__ __forceinline__ float load_f32(const T* p) { return static_cast<float>(*p); }
template <> __device__ __forceinline__ float load_f32(const __half* p) { return __half2float(*p); }
template <> __device__ __forceinline__ float load_f32(const __nv_bfloat16* p) { return __bfloat162float(*p); }

template <typename T> __device__ __forceinline__ T from_f32(float v) { return static_cast<T>(v); }
template <> __device__ __forceinline__ __half from_f32<__half>(float v) { return __float2half_rn(v); }
template <> __device__ __forceinline__ __nv_bfloat16 from_f32<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

}  // namespace hubkit
