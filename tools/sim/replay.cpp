#include "replay.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <numeric>

#include "caffeine.hpp"

namespace viewcache::sim {
namespace {

constexpr std::uint64_t progress_interval = std::uint64_t{1} << 22U;

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The frequency sketch is sized for the entries the cache will hold: the
// capacity, or for bytes the capacity over the mean request size, but never
// more than the trace's distinct keys.
std::size_t expected_entries(const Trace& trace, const Capacity& capacity,
                             std::uint64_t total_bytes) {
  std::uint64_t entries = capacity.value;
  if (capacity.in_bytes) {
    const std::uint64_t mean_size = std::max<std::uint64_t>(1, total_bytes / trace.size());
    entries = capacity.value / mean_size;
  }
  return static_cast<std::size_t>(
      std::clamp<std::uint64_t>(entries, 16, std::max<std::uint64_t>(trace.key_count, 16)));
}

std::unique_ptr<Policy> make_policy(PolicyKind kind, const Trace& trace, const Capacity& capacity,
                                    std::uint64_t total_bytes,
                                    const std::vector<std::uint32_t>& next_use) {
  switch (kind) {
    case PolicyKind::lru: return make_lru_policy(capacity.value, trace.key_count);
    case PolicyKind::arc: return make_arc_policy(capacity.value, trace.key_count);
    case PolicyKind::opt: return make_opt_policy(capacity.value, trace, next_use);
    case PolicyKind::viewcache:
      return make_viewcache_policy(capacity.value, trace.key_count,
                                   expected_entries(trace, capacity, total_bytes));
    case PolicyKind::caffeine: break;
  }
  return nullptr;
}

void run_one(const Trace& trace, Policy& policy, Result& result, const ReplayProgress& progress) {
  const std::string what =
      fmt::format("{} at {}", policy_name(result.policy), result.capacity.text);
  const bool weighted = result.capacity.in_bytes;
  for (std::size_t i = 0; i < trace.size(); ++i) {
    const std::uint64_t size = trace.has_sizes() ? trace.sizes[i] : 0;
    const auto position = static_cast<std::uint32_t>(i);
    if (policy.access(position, trace.keys[i], weighted ? size : 1)) {
      ++result.hits;
      result.hit_bytes += size;
    }
    if (progress && (i + 1) % progress_interval == 0) {
      progress(what, i + 1, trace.size());
    }
  }
}

}  // namespace

std::vector<Result> replay(const Trace& trace, std::span<const PolicyKind> policies,
                           std::span<const Capacity> capacities, const ReplayProgress& progress) {
  const std::uint64_t total_bytes =
      std::accumulate(trace.sizes.begin(), trace.sizes.end(), std::uint64_t{0});

  // by_policy[p][c] is the result of policies[p] at capacities[c].
  std::vector<std::vector<Result>> by_policy(policies.size(),
                                             std::vector<Result>(capacities.size()));
  for (std::size_t p = 0; p < policies.size(); ++p) {
    for (std::size_t c = 0; c < capacities.size(); ++c) {
      Result& result = by_policy[p][c];
      result.policy = policies[p];
      result.capacity = capacities[c];
      result.requests = trace.size();
      result.bytes = total_bytes;
    }
  }

  std::vector<std::uint32_t> next_use;
  if (std::find(policies.begin(), policies.end(), PolicyKind::opt) != policies.end()) {
    next_use = compute_next_use(trace);
  }

  for (std::size_t p = 0; p < policies.size(); ++p) {
    if (policies[p] == PolicyKind::caffeine) {
      // One JVM runs every capacity; its time is shared out evenly.
      const auto start = Clock::now();
      const std::vector<CaffeineCounts> counts = replay_caffeine(trace, capacities);
      const double seconds = seconds_since(start) / static_cast<double>(capacities.size());
      for (std::size_t c = 0; c < capacities.size(); ++c) {
        by_policy[p][c].hits = counts[c].hits;
        by_policy[p][c].hit_bytes = counts[c].hit_bytes;
        by_policy[p][c].seconds = seconds;
      }
      continue;
    }

    for (std::size_t c = 0; c < capacities.size(); ++c) {
      Result& result = by_policy[p][c];
      if (policies[p] == PolicyKind::arc && capacities[c].in_bytes) {
        result.unsupported = "ARC counts entries, so it does not run at byte capacities";
        continue;
      }
      const auto start = Clock::now();
      const std::unique_ptr<Policy> policy =
          make_policy(policies[p], trace, capacities[c], total_bytes, next_use);
      run_one(trace, *policy, result, progress);
      result.seconds = seconds_since(start);
    }
  }

  std::vector<Result> results;
  results.reserve(policies.size() * capacities.size());
  for (std::size_t c = 0; c < capacities.size(); ++c) {
    for (std::size_t p = 0; p < policies.size(); ++p) {
      results.push_back(std::move(by_policy[p][c]));
    }
  }
  return results;
}

}  // namespace viewcache::sim
