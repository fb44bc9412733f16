// A fixed pool of worker threads that runs one parallel-for at a time.
//
// The calling thread works too, so ThreadPool(1) starts no threads at all.
// Items are claimed from one atomic "ticket" that packs (generation, count,
// next index): a claim succeeds only for the current parallel_for, so the
// caller never waits for a worker that is asleep or descheduled, only for
// items already claimed. Which thread runs an item never changes its result,
// because items (envs) share no state.
//
// Waiting spins briefly before sleeping: an RL loop calls step() again within
// tens of microseconds, and a futex wake-up costs about as much as stepping
// one env.
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
  static constexpr int kMaxItems = (1 << 20) - 1;  // per parallel_for (ticket field width)

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
  // n must be at most kMaxItems.
  void parallel_for(int n, const std::function<void(int)>& fn) {
    if (workers_.empty() || n <= 1) {
      for (int i = 0; i < n; ++i) fn(i);
      return;
    }
    // subtle: fn_ may be replaced only now, when every item of the previous
    // call has finished, so a worker holding a claim always sees its own fn_.
    fn_ = &fn;
    remaining_.store(n, std::memory_order_relaxed);
    const std::uint64_t gen = (gen_of(ticket_.load()) + 1) & kGenMask;
    {
      std::lock_guard<std::mutex> lock(mu_);  // no sleeping worker misses the new ticket
      ticket_.store(pack(gen, n, 0), std::memory_order_release);
    }
    start_cv_.notify_all();
    run_items(gen);
    if (!spin_until([this] { return remaining_.load(std::memory_order_acquire) == 0; })) {
      std::unique_lock<std::mutex> lock(mu_);
      done_cv_.wait(lock, [this] { return remaining_.load() == 0; });
    }
  }

 private:
  static constexpr int kSpins = 4000;  // roughly 50-200 microseconds of pause instructions
  static constexpr std::uint64_t kGenMask = (1ULL << 24) - 1;

  static std::uint64_t pack(std::uint64_t gen, std::uint64_t n, std::uint64_t i) {
    return (gen << 40) | (n << 20) | i;
  }
  static std::uint64_t gen_of(std::uint64_t t) { return t >> 40; }
  static int count_of(std::uint64_t t) { return static_cast<int>((t >> 20) & kMaxItems); }
  static int index_of(std::uint64_t t) { return static_cast<int>(t & kMaxItems); }

  template <typename Pred>
  static bool spin_until(Pred ready) {
    for (int s = 0; s < kSpins; ++s) {
      if (ready()) return true;
      HUBKIT_CPU_RELAX();
    }
    return ready();
  }

  // Claim and run items of generation `gen` until none are left.
  void run_items(std::uint64_t gen) {
    std::uint64_t t = ticket_.load(std::memory_order_acquire);
    while (gen_of(t) == gen && index_of(t) < count_of(t)) {
      if (!ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel)) continue;
      (*fn_)(index_of(t));
      if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mu_);
        done_cv_.notify_one();
      }
      t = ticket_.load(std::memory_order_acquire);
    }
  }

  void worker_loop() {
    std::uint64_t seen = gen_of(ticket_.load());
    for (;;) {
      auto fresh = [&] { return stop_.load() || gen_of(ticket_.load()) != seen; };
      if (!spin_until(fresh)) {
        std::unique_lock<std::mutex> lock(mu_);
        start_cv_.wait(lock, fresh);
      }
      if (stop_.load()) return;
      seen = gen_of(ticket_.load(std::memory_order_acquire));
      run_items(seen);
    }
  }

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  const std::function<void(int)>* fn_ = nullptr;
  std::atomic<std::uint64_t> ticket_{0};
  std::atomic<int> remaining_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace hubkit
