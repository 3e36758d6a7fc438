#pragma once

// The eviction policies viewcache-sim replays. Each Policy instance is one
// cache of one capacity; replay.cpp feeds it every request of a trace in
// order. Keys are the trace's dense ids (see trace.hpp), so policies keep
// per-key state in arrays indexed by key.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "trace.hpp"

namespace viewcache::sim {

enum class PolicyKind { viewcache, lru, arc, opt, caffeine };

// The names --policy accepts, in the order of PolicyKind.
inline constexpr std::string_view policy_names[] = {"viewcache", "lru", "arc", "opt", "caffeine"};

[[nodiscard]] std::optional<PolicyKind> parse_policy(std::string_view name) noexcept;
[[nodiscard]] std::string_view policy_name(PolicyKind policy) noexcept;

class Policy {
 public:
  virtual ~Policy() = default;

  // Looks up key, the request at position of the trace, and admits it on a
  // miss if the policy chooses to. weight is what the entry counts against
  // the capacity: 1, or its size in bytes for a byte capacity. Returns true
  // on a hit.
  virtual bool access(std::uint32_t position, std::uint32_t key, std::uint64_t weight) = 0;
};

// Least recently used. A request heavier than the whole capacity is not
// admitted.
[[nodiscard]] std::unique_ptr<Policy> make_lru_policy(std::uint64_t capacity,
                                                      std::uint32_t key_count);

// ARC (Megiddo and Modha, FAST 2003), counting entries only.
[[nodiscard]] std::unique_ptr<Policy> make_arc_policy(std::uint64_t capacity,
                                                      std::uint32_t key_count);

// next_use[i] is the position of the next request for the key of request i,
// or no_next_use.
inline constexpr std::uint32_t no_next_use = UINT32_MAX;
[[nodiscard]] std::vector<std::uint32_t> compute_next_use(const Trace& trace);

// Belady's optimal policy with bypass: on a miss it evicts the entry whose
// next use is farthest, or does not admit the request when that is its own.
// next_use must come from compute_next_use(trace) and outlive the policy.
[[nodiscard]] std::unique_ptr<Policy> make_opt_policy(std::uint64_t capacity, const Trace& trace,
                                                      const std::vector<std::uint32_t>& next_use);

// viewcache's own W-TinyLfu, the class MemoryStore uses. expected_entries
// sizes its frequency sketch.
[[nodiscard]] std::unique_ptr<Policy> make_viewcache_policy(std::uint64_t capacity,
                                                            std::uint32_t key_count,
                                                            std::size_t expected_entries);

}  // namespace viewcache::sim
