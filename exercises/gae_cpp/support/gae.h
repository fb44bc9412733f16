// Generalized advantage estimation over a (T, N) rollout, float32 (do not edit).
#pragma once
#include <cstdint>

// rewards, values, dones (T, N) row-major, dones 1.0f where the episode ended at step t;
// last_value (N,) = V(s_T). Writes advantages and returns (T, N).
void gae(std::uintptr_t rewards, std::uintptr_t values, std::uintptr_t dones,
         std::uintptr_t last_value, std::uintptr_t advantages, std::uintptr_t returns,
         std::int64_t T, std::int64_t N, double gamma, double lam);
