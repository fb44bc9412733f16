// A fixed pool of worker threads that runs one parallel-for at a time.
//
// The calling thread works too, so ThreadPool(1) starts no threads at all.
// Work items are handed out through an atomic counter; which thread runs an
// item never changes its result, because items (envs) share no state.
//
// Waiting spins briefly before sleeping: an RL loop calls step() again within
// tens of microseconds, and a futex wake-up costs about as much as stepping
// one env, so a short spin keeps workers ready without burning a core while
// the caller is busy elsewhere.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HUBKIT_CPU_RELAX() _mm_pause()
#else
#define HUBKIT_CPU_RELAX() std::this_thread::yield()
#endif

namespace hubkit {

class ThreadPool {
 public:
  explicit ThreadPool(int num_threads) {
    for (int t = 1; t < num_threads; ++t) workers_.emplace_back([this] { worker_loop(); });
  }
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_.store(true);
    }
    start_cv_.notify_all();
    for (auto& w : workers_) w.join();
  }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(i) for every i in [0, n) and returns once all calls have finished.
  void parallel_for(int n, const std::function<void(int)>& fn) {
    if (workers_.empty()) {
      for (int i = 0; i < n; ++i) fn(i);
      return;
    }
    fn_ = &fn;
    n_ = n;
    next_.store(0);
    busy_.store(static_cast<int>(workers_.size()));
    {
      // subtle: bumping the generation under the lock means a worker that has
      // just checked it and is about to sleep cannot miss this wake-up.
      std::lock_guard<std::mutex> lock(mu_);
      generation_.fetch_add(1, std::memory_order_release);
    }
    start_cv_.notify_all();
    drain();
    if (!spin_until([this] { return busy_.load(std::memory_order_acquire) == 0; })) {
      std::unique_lock<std::mutex> lock(mu_);
      done_cv_.wait(lock, [this] { return busy_.load() == 0; });
    }
  }

 private:
  static constexpr int kSpins = 4000;  // about 50-200 microseconds of pause instructions

  template <typename Pred>
  static bool spin_until(Pred ready) {
    for (int s = 0; s < kSpins; ++s) {
      if (ready()) return true;
      HUBKIT_CPU_RELAX();
    }
    return ready();
  }

  void drain() {
    for (int i = next_.fetch_add(1); i < n_; i = next_.fetch_add(1)) (*fn_)(i);
  }

  void worker_loop() {
    std::uint64_t seen = 0;
    for (;;) {
      auto fresh = [&] {
        return stop_.load() || generation_.load(std::memory_order_acquire) != seen;
      };
      if (!spin_until(fresh)) {
        std::unique_lock<std::mutex> lock(mu_);
        start_cv_.wait(lock, fresh);
      }
      if (stop_.load()) return;
      seen = generation_.load(std::memory_order_acquire);
      drain();
      if (busy_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mu_);
        done_cv_.notify_one();
      }
    }
  }

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  const std::function<void(int)>* fn_ = nullptr;
  int n_ = 0;
  std::atomic<int> next_{0};
  std::atomic<int> busy_{0};
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace hubkit
