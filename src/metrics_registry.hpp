#pragma once

// The per-route, per-audience counters behind PageCache and the event hook.
//
// Every cached() call finds its route's counters, hits included, so the
// lookup takes no lock. Route names live in a fixed open-addressing table of
// atomic pointers, found by a hash of the name. Entries are only added, under
// a mutex, and never removed or moved while the cache lives, so a reader that
// loads a pointer with acquire ordering reads a fully built entry. The table
// has twice as many slots as max_routes, so a probe always ends at an empty
// slot or the name.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "thread_stripe.hpp"
#include "viewcache/cache_event.hpp"
#include "viewcache/cacheability.hpp"
#include "viewcache/request.hpp"

namespace viewcache::detail {

// Returns the what() of the exception in error, or "unknown exception" when
// it is not derived from std::exception. Throws std::bad_alloc only.
[[nodiscard]] std::string exception_message(const std::exception_ptr& error);

using Counter = std::atomic<std::uint64_t>;

struct AudienceCounters {
  // Striped, because every hit adds to it (thread_stripe.hpp).
  StripedCounter hits;
  Counter misses{0};
  Counter stale_served{0};
  Counter collapsed{0};
  Counter bypassed_method{0};
  Counter bypassed_key{0};
  Counter bypassed_leak{0};
  Counter stored{0};
  Counter render_errors{0};
  Counter wait_timeouts{0};
  std::array<Counter, store_decision_count> refused{};
};

struct RouteCounters {
  RouteCounters(std::string route_name, std::uint64_t name_hash)
      : name(std::move(route_name)), hash(name_hash) {}

  [[nodiscard]] AudienceCounters& of(Audience audience) noexcept {
    return audiences[static_cast<std::size_t>(audience)];
  }

  const std::string name;
  const std::uint64_t hash;
  std::array<AudienceCounters, 2> audiences{};
};

class Metrics {
 public:
  explicit Metrics(std::function<void(const CacheEvent&)> on_event);

  // Returns the counters of route ("default" when empty). Lock-free when the
  // name has been used before. The first call for a name takes a mutex.
  [[nodiscard]] RouteCounters& route(std::string_view name);

  // Calls function with every route's counters, in the order of first use.
  // Holds the insertion mutex meanwhile, never the hit path.
  void for_each_route(const std::function<void(const RouteCounters&)>& function) const;

  // Calls the event hook, if any. An exception it throws is caught and
  // counted in event_hook_errors.
  void emit(const CacheEvent& event) const noexcept;

  [[nodiscard]] bool has_hook() const noexcept { return static_cast<bool>(on_event_); }

  mutable Counter event_hook_errors{0};
  Counter warm_failures{0};

 private:
  static constexpr std::size_t slot_count = 256;

  // Returns the index of the slot that contains name, or of the empty slot
  // where name belongs.
  [[nodiscard]] std::size_t probe(std::string_view name, std::uint64_t hash) const noexcept;
  [[nodiscard]] RouteCounters& insert(std::string_view name, std::uint64_t hash);

  std::function<void(const CacheEvent&)> on_event_;
  std::array<std::atomic<RouteCounters*>, slot_count> slots_{};

  mutable std::mutex insert_mutex_;
  std::vector<std::unique_ptr<RouteCounters>> routes_;  // guarded by insert_mutex_
  std::unique_ptr<RouteCounters> overflow_;             // guarded by insert_mutex_
};

}  // namespace viewcache::detail
