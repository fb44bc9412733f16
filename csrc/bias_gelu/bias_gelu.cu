// CUDA kernels for fused bias + GELU: a grid-stride loop, one element per
// thread per step, float32 math for every storage type.
#include "bias_gelu/bias_gelu_cuda.h"
#include "cuda_common.cuh"

namespace hubkit {
namespace {

constexpr int kThreads = 256;

template <typename T>
__global__ void forward_kernel(const T* __restrict__ x, const T* __restrict__ b,
                               T* __restrict__ y, std::int64_t n, std::int64_t cols) {
  for (std::int64_t i = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; i < n;
       i += std::int64_t(gridDim.x) * blockDim.x) {
    const float z = load_f32(x + i) + load_f32(b + i % cols);
    y[i] = from_f32<T>(0.5f * z * (1.0f + erff(z * 0.70710678f)));
  }
}

template <typename T>
__global__ void backward_kernel(const T* __restrict__ g, const T* __restrict__ x,
                                const T* __restrict__ b, T* __restrict__ gx, std::int64_t n,
                                std::int64_t cols) {
  for (std::int64_t i = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; i < n;
       i += std::int64_t(gridDim.x) * blockDim.x) {
    const float z = load_f32(x + i) + load_f32(b + i % cols);
    const float cdf = 0.5f * (1.0f + erff(z * 0.70710678f));
    const float pdf = 0.39894228f * __expf(-0.5f * z * z);
    gx[i] = from_f32<T>(load_f32(g + i) * (cdf + z * pdf));
  }
}

int blocks_for(std::int64_t n) {
  const std::int64_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<int>(blocks < 65535 * 8 ? (blocks > 0 ? blocks : 1) : 65535 * 8);
}

template <typename T>
void launch_forward(std::uintptr_t x, std::uintptr_t b, std::uintptr_t y, std::int64_t rows,
                    std::int64_t cols, std::uintptr_t stream) {
  const std::int64_t n = rows * cols;
  forward_kernel<T><<<blocks_for(n), kThreads, 0, as_stream(stream)>>>(
      as_ptr<const T>(x), as_ptr<const T>(b), as_ptr<T>(y), n, cols);
  check_launch("bias_gelu_forward_cuda");
}

template <typename T>
void launch_backward(std::uintptr_t g, std::uintptr_t x, std::uintptr_t b, std::uintptr_t gx,
                     std::int64_t rows, std::int64_t cols, std::uintptr_t stream) {
  const std::int64_t n = rows * cols;
  backward_kernel<T><<<blocks_for(n), kThreads, 0, as_stream(stream)>>>(
      as_ptr<const T>(g), as_ptr<const T>(x), as_ptr<const T>(b), as_ptr<T>(gx), n, cols);
  check_launch("bias_gelu_backward_cuda");
}

}  // namespace

void bias_gelu_forward_cuda(std::uintptr_t x, std::uintptr_t bias, std::uintptr_t out,
                            std::int64_t rows, std::int64_t cols, int dtype,
                            int device, std::uintptr_t stream) {
  const DeviceGuard guard(device);
  switch (to_dtype(dtype)) {
    case DType::f32: return launch_forward<float>(x, bias, out, rows, cols, stream);
    case DType::f16: return launch_forward<__half>(x, bias, out, rows, cols, stream);
    case DType::bf16: return launch_forward<__nv_bfloat16>(x, bias, out, rows, cols, stream);
    default: throw std::invalid_argument("bias_gelu (cuda): dtype must be float32, float16 or bfloat16");
  }
}

void bias_gelu_backward_cuda(std::uintptr_t grad_out, std::uintptr_t x, std::uintptr_t bias,
                             std::uintptr_t grad_in, std::int64_t rows, std::int64_t cols,
                             int dtype, int device, std::uintptr_t stream) {
  const DeviceGuard guard(device);
  switch (to_dtype(dtype)) {
    case DType::f32: return launch_backward<float>(grad_out, x, bias, grad_in, rows, cols, stream);
    case DType::f16: return launch_backward<__half>(grad_out, x, bias, grad_in, rows, cols, stream);
    case DType::bf16: return launch_backward<__nv_bfloat16>(grad_out, x, bias, grad_in, rows, cols, stream);
    default: throw std::invalid_argument("bias_gelu (cuda): dtype must be float32, float16 or bfloat16");
  }
}

}  // namespace hubkit
