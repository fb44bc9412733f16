// conv2d on the GPU as tiled implicit GEMM: the im2col matrix is never built;
// each tile loader computes which input element a (row, column) of the GEMM
// reads. One kernel template runs three problems (per group, blockIdx.z):
//
//   forward      M = Kg, N = N*P*Q, K = Cg*R*S   A = weight,   B = im2col(x)
//   grad input   M = Cg, N = N*H*W, K = Kg*R*S   A = weight^T, B = "col2im-gather" of grad_y
//   grad weight  M = Kg, N = Cg*R*S, K = N*P*Q   A = grad_y,   B = im2col(x)^T  (split-K)
//
// Every block computes a 64 x 64 tile of C from 16-deep slices staged in shared
// memory (float32 whatever the storage type); each of the 256 threads owns a
// 4 x 4 sub-tile. Grad weight reduces over the whole batch, so its K range is
// split across blocks that add into a float32 workspace with atomicAdd.
#include "conv2d/conv2d_cuda.h"
#include "cuda_common.cuh"

namespace hubkit {
namespace {

constexpr int BM = 64, BN = 64, BK = 16, kThreads = 256;

struct Geo {
  std::int64_t n, c, h, w, k, r, s, p, q, sh, sw, ph, pw, dh, dw, groups;
  __host__ __device__ std::int64_t cg() const { return c / groups; }
  __host__ __device__ std::int64_t kg() const { return k / groups; }
  __host__ __device__ std::int64_t rs() const { return r * s; }
  __host__ __device__ std::int64_t pq() const { return p * q; }
};

// x[ni, gi*Cg + c, ih, iw] for the window tap (c, r, s) of output (p, q); 0 in the padding.
template <typename T>
__device__ float tap(const T* x, const Geo& g, std::int64_t gi, std::int64_t ni, std::int64_t crs,
                     std::int64_t p, std::int64_t q) {
  const std::int64_t c = crs / g.rs(), r = crs % g.rs() / g.s, s = crs % g.s;
  const std::int64_t ih = p * g.sh - g.ph + r * g.dh, iw = q * g.sw - g.pw + s * g.dw;
  if (ih < 0 || ih >= g.h || iw < 0 || iw >= g.w) return 0.0f;
  return load_f32(x + ((ni * g.c + gi * g.cg() + c) * g.h + ih) * g.w + iw);
}

template <typename T>
struct Forward {
  Geo g;
  const T* x; const T* w; const T* bias; T* y;
  __device__ std::int64_t M() const { return g.kg(); }
  __device__ std::int64_t N() const { return g.n * g.pq(); }
  __device__ std::int64_t K() const { return g.cg() * g.rs(); }
  __device__ float a(std::int64_t gi, std::int64_t m, std::int64_t kk) const {
    return load_f32(w + (gi * g.kg() + m) * K() + kk);
  }
  __device__ float b(std::int64_t gi, std::int64_t kk, std::int64_t n) const {
    const std::int64_t pqi = n % g.pq();
    return tap(x, g, gi, n / g.pq(), kk, pqi / g.q, pqi % g.q);
  }
  __device__ void store(std::int64_t gi, std::int64_t m, std::int64_t n, float v) const {
    const std::int64_t kk = gi * g.kg() + m;
    const float b0 = bias != nullptr ? load_f32(bias + kk) : 0.0f;
    y[(n / g.pq() * g.k + kk) * g.pq() + n % g.pq()] = from_f32<T>(v + b0);
  }
};

template <typename T>
struct GradInput {
  Geo g;
  const T* gy; const T* w; T* gx;
  __device__ std::int64_t M() const { return g.cg(); }
  __device__ std::int64_t N() const { return g.n * g.h * g.w; }
  __device__ std::int64_t K() const { return g.kg() * g.rs(); }
  __device__ float a(std::int64_t gi, std::int64_t m, std::int64_t kk) const {
    const std::int64_t k = kk / g.rs(), rsi = kk % g.rs();  // weight[gi*Kg + k, m, r, s]
    return load_f32(w + ((gi * g.kg() + k) * g.cg() + m) * g.rs() + rsi);
  }
  // grad_y[ni, k, p, q] for the output (p, q) whose tap (r, s) lands on (ih, iw), if any.
  __device__ float b(std::int64_t gi, std::int64_t kk, std::int64_t n) const {
    const std::int64_t k = kk / g.rs(), r = kk % g.rs() / g.s, s = kk % g.s;
    const std::int64_t ni = n / (g.h * g.w), ih = n % (g.h * g.w) / g.w, iw = n % g.w;
    const std::int64_t hp = ih + g.ph - r * g.dh, wq = iw + g.pw - s * g.dw;
    // subtle: test the sign before %, since C++ % of a negative number is negative
    if (hp < 0 || wq < 0 || hp % g.sh != 0 || wq % g.sw != 0) return 0.0f;
    const std::int64_t p = hp / g.sh, q = wq / g.sw;
    if (p >= g.p || q >= g.q) return 0.0f;
    return load_f32(gy + ((ni * g.k + gi * g.kg() + k) * g.p + p) * g.q + q);
  }
  __device__ void store(std::int64_t gi, std::int64_t m, std::int64_t n, float v) const {
    const std::int64_t hw = g.h * g.w;
    gx[(n / hw * g.c + gi * g.cg() + m) * hw + n % hw] = from_f32<T>(v);
  }
};

template <typename T>
struct GradWeight {
  Geo g;
  const T* gy; const T* x; float* ws;  // ws: float32 (K, Cg*R*S), zeroed, added into
  __device__ std::int64_t M() const { return g.kg(); }
  __device__ std::int64_t N() const { return g.cg() * g.rs(); }
  __device__ std::int64_t K() const { return g.n * g.pq(); }
  __device__ float a(std::int64_t gi, std::int64_t m, std::int64_t kk) const {
    return load_f32(gy + (kk / g.pq() * g.k + gi * g.kg() + m) * g.pq() + kk % g.pq());
  }
  __device__ float b(std::int64_t gi, std::int64_t kk, std::int64_t n) const {
    const std::int64_t pqi = kk % g.pq();
    return tap(x, g, gi, kk / g.pq(), n, pqi / g.q, pqi % g.q);
  }
  __device__ void store(std::int64_t gi, std::int64_t m, std::int64_t n, float v) const {
    atomicAdd(ws + (gi * g.kg() + m) * N() + n, v);  // split-K blocks share this entry
  }
};

template <class Problem>
__global__ void __launch_bounds__(kThreads) igemm_kernel(Problem pb, int splits) {
  __shared__ float As[BK][BM];
  __shared__ float Bs[BK][BN];
  const std::int64_t gi = blockIdx.z % pb.g.groups, split = blockIdx.z / pb.g.groups;
  const std::int64_t m0 = std::int64_t(blockIdx.y) * BM, n0 = std::int64_t(blockIdx.x) * BN;
  const std::int64_t M = pb.M(), N = pb.N(), K = pb.K();
  const std::int64_t chunk = ((K + splits - 1) / splits + BK - 1) / BK * BK;
  const std::int64_t k_begin = split * chunk, k_end = min(K, k_begin + chunk);
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  float acc[4][4] = {};
  for (std::int64_t kt = k_begin; kt < k_end; kt += BK) {
    for (int i = threadIdx.x; i < BK * BM; i += kThreads) {
      const std::int64_t kk = kt + i / BM, m = m0 + i % BM;
      As[i / BM][i % BM] = (m < M && kk < k_end) ? pb.a(gi, m, kk) : 0.0f;
    }
    for (int i = threadIdx.x; i < BK * BN; i += kThreads) {
      const std::int64_t kk = kt + i / BN, n = n0 + i % BN;
      Bs[i / BN][i % BN] = (n < N && kk < k_end) ? pb.b(gi, kk, n) : 0.0f;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < BK; ++kk) {
      float av[4], bv[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) av[i] = As[kk][ty * 4 + i];
#pragma unroll
      for (int j = 0; j < 4; ++j) bv[j] = Bs[kk][tx * 4 + j];
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] += av[i] * bv[j];
    }
    __syncthreads();  // the tile is re-filled next step: everyone must be done reading
  }
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) {
      const std::int64_t m = m0 + ty * 4 + i, n = n0 + tx * 4 + j;
      if (m < M && n < N && k_begin < k_end) pb.store(gi, m, n, acc[i][j]);
    }
}

template <class Problem>
void launch(const Problem& pb, std::int64_t m, std::int64_t n, int splits, cudaStream_t stream,
            const char* name) {
  const dim3 grid(static_cast<unsigned>((n + BN - 1) / BN), static_cast<unsigned>((m + BM - 1) / BM),
                  static_cast<unsigned>(pb.g.groups * splits));
  igemm_kernel<<<grid, kThreads, 0, stream>>>(pb, splits);
  check_launch(name);
}

// grad_b[k] = sum over n, p, q of grad_y[n, k, p, q]; one block per k.
template <typename T>
__global__ void bias_grad_kernel(const T* gy, T* gb, Geo g) {
  __shared__ float part[kThreads];
  float sum = 0.0f;
  for (std::int64_t i = threadIdx.x; i < g.n * g.pq(); i += kThreads)
    sum += load_f32(gy + (i / g.pq() * g.k + blockIdx.x) * g.pq() + i % g.pq());
  part[threadIdx.x] = sum;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) part[threadIdx.x] += part[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) gb[blockIdx.x] = from_f32<T>(part[0]);
}

template <typename T>
__global__ void cast_kernel(const float* src, T* dst, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; i < n;
       i += std::int64_t(gridDim.x) * blockDim.x)
    dst[i] = from_f32<T>(src[i]);
}

Geo geo(const std::vector<std::int64_t>& d) {
  if (d.size() != 16) throw std::invalid_argument("conv2d (cuda): dims must hold 16 integers");
  return {d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12],
          d[13], d[14], d[15]};
}

template <typename T>
void forward(std::uintptr_t x, std::uintptr_t w, std::uintptr_t b, std::uintptr_t y, const Geo& g,
             cudaStream_t stream) {
  Forward<T> pb{g, as_ptr<const T>(x), as_ptr<const T>(w), as_ptr<const T>(b), as_ptr<T>(y)};
  launch(pb, g.kg(), g.n * g.pq(), 1, stream, "conv2d_forward_cuda");
}

template <typename T>
void grad_weight(std::uintptr_t gy, std::uintptr_t x, std::uintptr_t gw, const Geo& g,
                 cudaStream_t stream) {
  const std::int64_t m = g.kg(), n = g.cg() * g.rs(), red = g.n * g.pq(), total = g.k * n;
  const std::int64_t tiles = ((m + BM - 1) / BM) * ((n + BN - 1) / BN) * g.groups;
  const int splits = static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(
      std::max<std::int64_t>(1, 512 / tiles), std::min<std::int64_t>(red / 256 + 1, 65535 / g.groups))));
  float* ws = nullptr;
  if (cudaMallocAsync(&ws, total * sizeof(float), stream) != cudaSuccess)
    throw std::runtime_error("conv2d_backward_cuda: could not allocate the grad_weight workspace");
  cudaMemsetAsync(ws, 0, total * sizeof(float), stream);
  GradWeight<T> pb{g, as_ptr<const T>(gy), as_ptr<const T>(x), ws};
  launch(pb, m, n, splits, stream, "conv2d_backward_cuda (grad weight)");
  cast_kernel<T><<<static_cast<unsigned>(std::min<std::int64_t>((total + 255) / 256, 4096)), 256, 0,
                   stream>>>(ws, as_ptr<T>(gw), total);
  check_launch("conv2d_backward_cuda (cast)");
  cudaFreeAsync(ws, stream);
}

template <typename T>
void backward(std::uintptr_t gy, std::uintptr_t x, std::uintptr_t w, std::uintptr_t gx,
              std::uintptr_t gw, std::uintptr_t gb, const Geo& g, cudaStream_t stream) {
  if (gx != 0) {
    GradInput<T> pb{g, as_ptr<const T>(gy), as_ptr<const T>(w), as_ptr<T>(gx)};
    launch(pb, g.cg(), g.n * g.h * g.w, 1, stream, "conv2d_backward_cuda (grad input)");
  }
  if (gw != 0) grad_weight<T>(gy, x, gw, g, stream);
  if (gb != 0) {
    bias_grad_kernel<T><<<static_cast<unsigned>(g.k), kThreads, 0, stream>>>(
        as_ptr<const T>(gy), as_ptr<T>(gb), g);
    check_launch("conv2d_backward_cuda (grad bias)");
  }
}

}  // namespace

void conv2d_forward_cuda(std::uintptr_t x, std::uintptr_t w, std::uintptr_t bias,
                         std::uintptr_t y, const std::vector<std::int64_t>& dims, int dtype,
                         int device, std::uintptr_t stream) {
  const DeviceGuard guard(device);
  const Geo g = geo(dims);
  switch (to_dtype(dtype)) {
    case DType::f32: return forward<float>(x, w, bias, y, g, as_stream(stream));
    case DType::f16: return forward<__half>(x, w, bias, y, g, as_stream(stream));
    case DType::bf16: return forward<__nv_bfloat16>(x, w, bias, y, g, as_stream(stream));
    default: throw std::invalid_argument("conv2d (cuda): dtype must be float32, float16 or bfloat16");
  }
}

void conv2d_backward_cuda(std::uintptr_t grad_y, std::uintptr_t x, std::uintptr_t w,
                          std::uintptr_t grad_x, std::uintptr_t grad_w, std::uintptr_t grad_b,
                          const std::vector<std::int64_t>& dims, int dtype,
                          int device, std::uintptr_t stream) {
  const DeviceGuard guard(device);
  const Geo g = geo(dims);
  const cudaStream_t st = as_stream(stream);
  switch (to_dtype(dtype)) {
    case DType::f32: return backward<float>(grad_y, x, w, grad_x, grad_w, grad_b, g, st);
    case DType::f16: return backward<__half>(grad_y, x, w, grad_x, grad_w, grad_b, g, st);
    case DType::bf16: return backward<__nv_bfloat16>(grad_y, x, w, grad_x, grad_w, grad_b, g, st);
    default: throw std::invalid_argument("conv2d (cuda): dtype must be float32, float16 or bfloat16");
  }
}

}  // namespace hubkit
