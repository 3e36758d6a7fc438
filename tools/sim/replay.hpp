#pragma once

// Replaying a loaded trace through each requested policy at each capacity.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "policy.hpp"
#include "trace.hpp"

namespace viewcache::sim {

struct Capacity {
  std::uint64_t value = 0;
  bool in_bytes = false;  // bytes, so entries weigh their size; else a number of entries
  std::string text;       // as written on the command line
};

struct Result {
  PolicyKind policy = PolicyKind::viewcache;
  Capacity capacity;
  std::uint64_t requests = 0;
  std::uint64_t hits = 0;
  std::uint64_t bytes = 0;      // sum of request sizes, when the trace has sizes
  std::uint64_t hit_bytes = 0;  // sum of the sizes of the hits
  double seconds = 0.0;         // wall-clock time of the replay
  std::string unsupported;      // why the policy cannot run at this capacity, empty if it ran

  [[nodiscard]] double hit_ratio() const noexcept {
    return requests == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(requests);
  }
  [[nodiscard]] double byte_hit_ratio() const noexcept {
    return bytes == 0 ? 0.0 : static_cast<double>(hit_bytes) / static_cast<double>(bytes);
  }
};

// Called now and then during a replay with what runs (such as "lru at 1000")
// and the requests done out of the total.
using ReplayProgress =
    std::function<void(std::string_view what, std::uint64_t done, std::uint64_t total)>;

// Replays trace through every policy at every capacity. Returns the results
// ordered by capacity, then by policy in the order given. A byte capacity
// needs a trace with sizes (the caller checks). Throws InputError when the
// caffeine policy cannot run, std::runtime_error when its harness fails.
[[nodiscard]] std::vector<Result> replay(const Trace& trace, std::span<const PolicyKind> policies,
                                         std::span<const Capacity> capacities,
                                         const ReplayProgress& progress = {});

}  // namespace viewcache::sim
