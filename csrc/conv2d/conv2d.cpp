// conv2d on the CPU as im2col + packed GEMM (gemm.cpp), one GEMM per (image, group):
//
//   forward      y[Kg, P*Q]      = W[Kg, Cg*R*S] @ cols[Cg*R*S, P*Q]   (+ bias)
//   grad weight  gW[Kg, Cg*R*S] += gy[Kg, P*Q]   @ cols^T
//   grad input   gcols           = W^T @ gy, then col2im adds gcols back onto the image
//
// A 1x1 kernel with stride 1 and no padding needs no im2col: the image is
// already the column matrix. Threads split the (image, group) tasks when there
// are enough of them, else the columns of each GEMM.
#include "conv2d/conv2d.h"

#include <algorithm>
#include <vector>

#include "common.h"
#include "conv2d/gemm.h"

namespace hubkit {
namespace {

struct Geom {
  std::int64_t n, c, h, w, k, r, s, p, q, sh, sw, ph, pw, dh, dw, groups;
  std::int64_t cg() const { return c / groups; }
  std::int64_t kg() const { return k / groups; }
  std::int64_t crs() const { return cg() * r * s; }
  std::int64_t pq() const { return p * q; }
  bool direct() const { return r == 1 && s == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0; }
};

Geom geom(const std::vector<std::int64_t>& d) {
  if (d.size() != 16) throw std::invalid_argument("conv2d (cpp): dims must hold 16 integers");
  return {d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12],
          d[13], d[14], d[15]};
}

// Output columns [lo, hi) whose input column ow*stride + off lies inside [0, w).
void valid_range(std::int64_t off, std::int64_t stride, std::int64_t w, std::int64_t q,
                 std::int64_t& lo, std::int64_t& hi) {
  lo = off < 0 ? std::min(q, (-off + stride - 1) / stride) : 0;
  hi = w - off > 0 ? std::min(q, (w - off + stride - 1) / stride) : 0;
  hi = std::max(hi, lo);
}

// One image's group x (Cg, H, W) -> cols (Cg*R*S, P*Q); zeros where the window hangs off the edge.
template <typename T>
void im2col(const T* x, const Geom& g, T* cols) {
  for (std::int64_t c = 0; c < g.cg(); ++c)
    for (std::int64_t r = 0; r < g.r; ++r)
      for (std::int64_t s = 0; s < g.s; ++s) {
        T* row = cols + ((c * g.r + r) * g.s + s) * g.pq();
        const std::int64_t off = s * g.dw - g.pw;
        std::int64_t lo, hi;
        valid_range(off, g.sw, g.w, g.q, lo, hi);
        for (std::int64_t oh = 0; oh < g.p; ++oh) {
          T* dst = row + oh * g.q;
          const std::int64_t ih = oh * g.sh - g.ph + r * g.dh;
          if (ih < 0 || ih >= g.h) {
            std::fill(dst, dst + g.q, T(0));
            continue;
          }
          const T* src = x + (c * g.h + ih) * g.w + off;
          std::fill(dst, dst + lo, T(0));
          for (std::int64_t ow = lo; ow < hi; ++ow) dst[ow] = src[ow * g.sw];
          std::fill(dst + hi, dst + g.q, T(0));
        }
      }
}

// The adjoint: x (Cg, H, W) += every column entry at the place it was read from.
template <typename T>
void col2im_add(const T* cols, const Geom& g, T* x) {
  for (std::int64_t c = 0; c < g.cg(); ++c)
    for (std::int64_t r = 0; r < g.r; ++r)
      for (std::int64_t s = 0; s < g.s; ++s) {
        const T* row = cols + ((c * g.r + r) * g.s + s) * g.pq();
        const std::int64_t off = s * g.dw - g.pw;
        std::int64_t lo, hi;
        valid_range(off, g.sw, g.w, g.q, lo, hi);
        for (std::int64_t oh = 0; oh < g.p; ++oh) {
          const std::int64_t ih = oh * g.sh - g.ph + r * g.dh;
          if (ih < 0 || ih >= g.h) continue;
          T* dst = x + (c * g.h + ih) * g.w + off;
          const T* src = row + oh * g.q;
          for (std::int64_t ow = lo; ow < hi; ++ow) dst[ow * g.sw] += src[ow];
        }
      }
}

template <typename T>
std::vector<T>& scratch(int which) {
  thread_local std::vector<T> buffers[2];  // im2col buffers, reused across calls
  return buffers[which];
}

// Split (image, group) tasks over threads when that keeps every thread busy.
bool split_tasks(std::int64_t tasks, int threads) {
  return threads > 1 && (tasks % threads == 0 || tasks >= 4 * threads);
}

// Threads worth waking for this much work. Below ~64 MFLOP (about 1 ms on one
// AVX-512 core) a parallel region saves little, and on a busy machine the join
// waits for a descheduled worker: a 38 MFLOP conv measured 0.5 ms on one thread
// and ~20 ms on two (2 shared cores, load average 6).
int threads_for(const Geom& g) {
  const double flops = 2.0 * g.n * g.k * g.crs() * g.pq();
  return flops < 6.4e7 ? 1 : num_threads();
}

template <typename T>
const T* columns(const T* xg, const Geom& g) {
  if (g.direct()) return xg;
  std::vector<T>& buf = scratch<T>(0);
  buf.resize(static_cast<std::size_t>(g.crs() * g.pq()));
  im2col(xg, g, buf.data());
  return buf.data();
}

template <typename T>
void forward_task(const T* x, const T* w, const T* b, T* y, const Geom& g, std::int64_t t,
                  int threads) {
  const std::int64_t ni = t / g.groups, gi = t % g.groups;
  const T* cols = columns(x + (ni * g.c + gi * g.cg()) * g.h * g.w, g);
  T* yg = y + (ni * g.k + gi * g.kg()) * g.pq();
  if (b != nullptr)  // start from the bias, then accumulate W @ cols onto it
    for (std::int64_t kk = 0; kk < g.kg(); ++kk)
      std::fill(yg + kk * g.pq(), yg + (kk + 1) * g.pq(), b[gi * g.kg() + kk]);
  gemm(g.kg(), g.pq(), g.crs(), MatView<T>{w + gi * g.kg() * g.crs(), g.crs(), 1},
       MatView<T>{cols, g.pq(), 1}, yg, g.pq(), b != nullptr, threads);
}

template <typename T>
void forward(const T* x, const T* w, const T* b, T* y, const Geom& g) {
  const std::int64_t tasks = g.n * g.groups;
  const int threads = threads_for(g);
  if (split_tasks(tasks, threads)) {
#pragma omp parallel for schedule(dynamic, 1)
    for (std::int64_t t = 0; t < tasks; ++t) forward_task(x, w, b, y, g, t, 1);
  } else {
    for (std::int64_t t = 0; t < tasks; ++t) forward_task(x, w, b, y, g, t, threads);
  }
}

template <typename T>
void backward_task(const T* gy, const T* x, const T* w, T* gx, T* gw, const Geom& g,
                   std::int64_t t, int threads) {
  const std::int64_t ni = t / g.groups, gi = t % g.groups;
  const T* xg = x + (ni * g.c + gi * g.cg()) * g.h * g.w;
  const T* gyg = gy + (ni * g.k + gi * g.kg()) * g.pq();
  const T* wg = w + gi * g.kg() * g.crs();
  if (gw != nullptr)  // gW[Kg, CRS] += gy[Kg, PQ] @ cols^T (cols read transposed)
    gemm(g.kg(), g.crs(), g.pq(), MatView<T>{gyg, g.pq(), 1}, MatView<T>{columns(xg, g), 1, g.pq()},
         gw + gi * g.kg() * g.crs(), g.crs(), true, threads);
  if (gx == nullptr) return;
  T* gxg = gx + (ni * g.c + gi * g.cg()) * g.h * g.w;
  const MatView<T> wt{wg, 1, g.crs()};  // W^T: (CRS, Kg)
  if (g.direct()) return gemm(g.crs(), g.pq(), g.kg(), wt, MatView<T>{gyg, g.pq(), 1}, gxg, g.pq(),
                              false, threads);
  std::vector<T>& gcols = scratch<T>(1);
  gcols.resize(static_cast<std::size_t>(g.crs() * g.pq()));
  gemm(g.crs(), g.pq(), g.kg(), wt, MatView<T>{gyg, g.pq(), 1}, gcols.data(), g.pq(), false,
       threads);
  std::fill(gxg, gxg + g.cg() * g.h * g.w, T(0));
  col2im_add(gcols.data(), g, gxg);
}

template <typename T>
void bias_grad(const T* gy, T* gb, const Geom& g) {
#pragma omp parallel for schedule(static) if (g.n * g.k * g.pq() > (1 << 20))
  for (std::int64_t kk = 0; kk < g.k; ++kk) {
    T sum = 0;
    for (std::int64_t ni = 0; ni < g.n; ++ni) {
      const T* row = gy + (ni * g.k + kk) * g.pq();
      for (std::int64_t i = 0; i < g.pq(); ++i) sum += row[i];
    }
    gb[kk] = sum;
  }
}

template <typename T>
void backward(const T* gy, const T* x, const T* w, T* gx, T* gw, T* gb, const Geom& g) {
  if (gb != nullptr) bias_grad(gy, gb, g);
  const std::int64_t tasks = g.n * g.groups, wsize = g.k * g.crs();
  const int threads = threads_for(g);
  if (!split_tasks(tasks, threads)) {
    if (gw != nullptr) std::fill(gw, gw + wsize, T(0));
    for (std::int64_t t = 0; t < tasks; ++t) backward_task(gy, x, w, gx, gw, g, t, threads);
    return;
  }
  // subtle: tasks of different images add into the same grad_w, so each thread
  // accumulates its own copy and the copies are summed after the loop (no races).
  std::vector<T> partial(gw != nullptr ? static_cast<std::size_t>(threads * wsize) : 0, T(0));
#pragma omp parallel num_threads(threads)
  {
#ifdef HUBKIT_OPENMP
    const int tid = omp_get_thread_num();
#else
    const int tid = 0;
#endif
    T* mine = gw != nullptr ? partial.data() + tid * wsize : nullptr;
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t t = 0; t < tasks; ++t) backward_task(gy, x, w, gx, mine, g, t, 1);
  }
  if (gw == nullptr) return;
  for (std::int64_t i = 0; i < wsize; ++i) {
    T sum = 0;
    for (int t = 0; t < threads; ++t) sum += partial[t * wsize + i];
    gw[i] = sum;
  }
}

}  // namespace

void conv2d_forward_cpu(std::uintptr_t x, std::uintptr_t w, std::uintptr_t bias,
                        std::uintptr_t y, const std::vector<std::int64_t>& dims, int dtype) {
  const Geom g = geom(dims);
  switch (to_dtype(dtype)) {
    case DType::f32:
      return forward(as_ptr<const float>(x), as_ptr<const float>(w), as_ptr<const float>(bias),
                     as_ptr<float>(y), g);
    case DType::f64:
      return forward(as_ptr<const double>(x), as_ptr<const double>(w),
                     as_ptr<const double>(bias), as_ptr<double>(y), g);
    default:
      throw std::invalid_argument("conv2d (cpp): dtype must be float32 or float64");
  }
}

void conv2d_backward_cpu(std::uintptr_t grad_y, std::uintptr_t x, std::uintptr_t w,
                         std::uintptr_t grad_x, std::uintptr_t grad_w, std::uintptr_t grad_b,
                         const std::vector<std::int64_t>& dims, int dtype) {
  const Geom g = geom(dims);
  switch (to_dtype(dtype)) {
    case DType::f32:
      return backward(as_ptr<const float>(grad_y), as_ptr<const float>(x),
                      as_ptr<const float>(w), as_ptr<float>(grad_x), as_ptr<float>(grad_w),
                      as_ptr<float>(grad_b), g);
    case DType::f64:
      return backward(as_ptr<const double>(grad_y), as_ptr<const double>(x),
                      as_ptr<const double>(w), as_ptr<double>(grad_x), as_ptr<double>(grad_w),
                      as_ptr<double>(grad_b), g);
    default:
      throw std::invalid_argument("conv2d (cpp): dtype must be float32 or float64");
  }
}

}  // namespace hubkit
