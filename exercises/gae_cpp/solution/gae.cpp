// GAE in one backward sweep over time: A_t needs A_{t+1}, so t runs from T-1 down to 0;
// the N envs of a step are independent, so the inner loop runs over them.
#include "gae.h"

#include <stdexcept>
#include <vector>

void gae(std::uintptr_t rewards_, std::uintptr_t values_, std::uintptr_t dones_,
         std::uintptr_t last_value_, std::uintptr_t advantages_, std::uintptr_t returns_,
         std::int64_t T, std::int64_t N, double gamma_, double lam_) {
  // BEGIN SOLUTION
  // starter> // Step 1: turn each address into a const float* (inputs) or float* (outputs).
  // starter> // Step 2: carry[n] = A_{t+1} for env n (0 after the last step); next_value = last_value.
  // starter> // Step 3: for t = T-1 down to 0, for each n:
  // starter> //           keep = 1 - dones[t, n]
  // starter> //           delta = r + gamma * keep * next_value[n] - v
  // starter> //           A = delta + gamma * lam * keep * carry[n]; returns = A + v
  // starter> //         then next_value = values[t].
  // starter> throw std::runtime_error("not implemented yet");
  const auto* rewards = reinterpret_cast<const float*>(rewards_);
  const auto* values = reinterpret_cast<const float*>(values_);
  const auto* dones = reinterpret_cast<const float*>(dones_);
  auto* advantages = reinterpret_cast<float*>(advantages_);
  auto* returns = reinterpret_cast<float*>(returns_);
  const float gamma = static_cast<float>(gamma_), lam = static_cast<float>(lam_);
  std::vector<float> carry(N, 0.0f);  // A_{t+1} of each env
  const float* next_value = reinterpret_cast<const float*>(last_value_);
  for (std::int64_t t = T - 1; t >= 0; --t) {
    for (std::int64_t n = 0; n < N; ++n) {
      const std::int64_t i = t * N + n;
      const float keep = 1.0f - dones[i];  // 0: the episode ended at t, read nothing after
      const float delta = rewards[i] + gamma * keep * next_value[n] - values[i];
      carry[n] = delta + gamma * lam * keep * carry[n];
      advantages[i] = carry[n];
      returns[i] = carry[n] + values[i];
    }
    next_value = values + t * N;
  }
  // END SOLUTION
}
