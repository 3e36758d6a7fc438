#pragma once

// Metrics: counters of one PageCache per route and audience, as a snapshot
// and in the Prometheus text exposition format (version 0.0.4).
//
//   std::string body;
//   viewcache::write_prometheus(cache, body);
//   // serve body with Content-Type: text/plain; version=0.0.4
//
// A route is named by CacheOptions::route ("default" when empty), and the
// audience is "anon" or "auth", from Request::viewer. Each series is labelled
// with both, so a hit ratio that differs between anonymous and signed-in
// readers shows per route. Route names become label values, so they must be
// a small fixed set such as "home" or "course", never a raw path.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "viewcache/cacheability.hpp"
#include "viewcache/memory_store.hpp"
#include "viewcache/page_cache.hpp"
#include "viewcache/request.hpp"

namespace viewcache {

// Counters of one route for one audience.
struct AudienceStats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;           // collapsed ones included
  std::uint64_t stale_served = 0;     // stale pages served (RFC 5861)
  std::uint64_t collapsed = 0;        // misses served with another request's render
  std::uint64_t bypassed_method = 0;  // not looked up: method other than GET or HEAD
  std::uint64_t bypassed_key = 0;     // not looked up: the key policy built no key
  std::uint64_t bypassed_leak = 0;    // not served from the store: the leak guard disabled the route
  std::uint64_t stored = 0;
  std::uint64_t render_errors = 0;
  std::uint64_t wait_timeouts = 0;

  // From a MemoryStore: the entries this route and audience have in the
  // store, the bytes charged for them, and how many it evicted (zero for a
  // store of another type).
  std::uint64_t store_entries = 0;
  std::uint64_t store_bytes = 0;
  std::uint64_t evicted_capacity = 0;
  std::uint64_t evicted_expired = 0;

  // Rendered pages not stored, by reason (index: StoreDecision).
  std::array<std::uint64_t, store_decision_count> refused{};

  [[nodiscard]] std::uint64_t refused_for(StoreDecision reason) const noexcept {
    return refused[static_cast<std::size_t>(reason)];
  }
};

// Counters of one route, for each audience.
struct RouteStats {
  std::string route;
  std::array<AudienceStats, 2> audiences{};  // index: Audience

  [[nodiscard]] const AudienceStats& of(Audience audience) const noexcept {
    return audiences[static_cast<std::size_t>(audience)];
  }
};

// Everything write_prometheus() writes, as plain values.
struct MetricsSnapshot {
  PageCacheStats totals;

  // One entry per route name seen so far, in the order of first use.
  std::vector<RouteStats> routes;

  // Exceptions the event hook threw, each caught by the cache.
  std::uint64_t event_hook_errors = 0;

  // Entries of PageCache::warm() that threw.
  std::uint64_t warm_failures = 0;

  // The store's counters when it is a MemoryStore. Any other Store reports no
  // entries, bytes or evictions, so this is std::nullopt for it.
  std::optional<MemoryStore::Stats> store;
};

// The maximum number of distinct route names a PageCache counts separately.
// Further names are counted together under overflow_route_name.
inline constexpr std::size_t max_routes = 128;
inline constexpr std::string_view overflow_route_name = "other";

// Takes a snapshot of cache's counters. Each counter is read atomically, but
// the snapshot is not one instant while other threads serve requests. Locks
// the route table (not the hit path's) and, for a MemoryStore, every shard
// one at a time.
[[nodiscard]] MetricsSnapshot metrics_snapshot(const PageCache& cache);

// Appends snapshot to out in the Prometheus text exposition format 0.0.4: a
// "# HELP" and a "# TYPE" line per metric, then one sample per route and
// audience (and reason, for refusals and bypasses). Counters end in _total,
// and every name starts with viewcache_. Label values are escaped as the format
// requires (backslash, double quote, line feed).
void write_prometheus(const MetricsSnapshot& snapshot, std::string& out);

// Appends metrics_snapshot(cache) to out, as above.
void write_prometheus(const PageCache& cache, std::string& out);

}  // namespace viewcache
