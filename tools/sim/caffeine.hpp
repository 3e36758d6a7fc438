#pragma once

// The caffeine policy: the trace replayed through Caffeine (Debian's
// libcaffeine-java) by the Java harness in bench/caffeine, in a child
// process.

#include <cstdint>
#include <span>
#include <vector>

#include "replay.hpp"
#include "trace.hpp"

namespace viewcache::sim {

struct CaffeineCounts {
  std::uint64_t hits = 0;
  std::uint64_t hit_bytes = 0;
};

// Writes the trace's key ids (and sizes, when known) to a temporary file,
// runs the harness once over every capacity, and returns its counts in the
// order of capacities. Throws InputError naming the missing package when Java
// or Caffeine was not found at build time, and std::runtime_error when the
// harness fails.
[[nodiscard]] std::vector<CaffeineCounts> replay_caffeine(const Trace& trace,
                                                          std::span<const Capacity> capacities);

}  // namespace viewcache::sim
