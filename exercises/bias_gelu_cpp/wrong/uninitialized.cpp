// Known wrong: returns without writing the output (it keeps whatever memory held).
#include "bias_gelu.h"

#include <cmath>
#include <cstring>

void bias_gelu_forward(std::uintptr_t, std::uintptr_t, std::uintptr_t, std::int64_t,
                       std::int64_t) {}
