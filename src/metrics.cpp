#include "viewcache/metrics.hpp"

#include <fmt/format.h>

#include <array>
#include <initializer_list>
#include <iterator>
#include <string_view>

#include "metrics_registry.hpp"

namespace viewcache {

namespace {

AudienceStats load(const detail::AudienceCounters& counters) noexcept {
  const auto read = [](const detail::Counter& counter) {
    return counter.load(std::memory_order_relaxed);
  };
  AudienceStats stats{.hits = counters.hits.load(),
                      .misses = read(counters.misses),
                      .stale_served = read(counters.stale_served),
                      .collapsed = read(counters.collapsed),
                      .bypassed_method = read(counters.bypassed_method),
                      .bypassed_key = read(counters.bypassed_key),
                      .bypassed_leak = read(counters.bypassed_leak),
                      .stored = read(counters.stored),
                      .render_errors = read(counters.render_errors),
                      .wait_timeouts = read(counters.wait_timeouts)};
  for (std::size_t i = 0; i < store_decision_count; ++i) {
    stats.refused[i] = read(counters.refused[i]);
  }
  return stats;
}

// Appends value as a label value of the text format: backslash, double quote
// and line feed are escaped, every other byte is written as it is.
void append_label_value(std::string& out, std::string_view value) {
  for (const char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

void append_header(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

// A label of one sample. Its value is escaped when written.
struct Label {
  std::string_view name;
  std::string_view value;
};

void append_sample(std::string& out, std::string_view name, std::initializer_list<Label> labels,
                   std::uint64_t value) {
  out += name;
  if (labels.size() != 0) {
    out += '{';
    bool first = true;
    for (const Label& label : labels) {
      if (!first) {
        out += ',';
      }
      first = false;
      out += label.name;
      out += "=\"";
      append_label_value(out, label.value);
      out += '"';
    }
    out += '}';
  }
  fmt::format_to(std::back_inserter(out), " {}\n", value);
}

// A per-route, per-audience counter: its name, help text, and where its
// value is in AudienceStats.
struct RouteCounter {
  std::string_view name;
  std::string_view help;
  std::uint64_t AudienceStats::*value;
};

constexpr std::array<RouteCounter, 7> route_counters{{
    {"viewcache_hits_total", "Requests served from the store.", &AudienceStats::hits},
    {"viewcache_misses_total", "Lookups that found no fresh page, collapsed ones included.",
     &AudienceStats::misses},
    {"viewcache_stale_served_total", "Requests served a stale page (stale-while-revalidate or stale-if-error).",
     &AudienceStats::stale_served},
    {"viewcache_collapsed_total", "Misses served with the page another request rendered.",
     &AudienceStats::collapsed},
    {"viewcache_stored_total", "Rendered pages put into the store.", &AudienceStats::stored},
    {"viewcache_render_errors_total", "Render calls that threw.", &AudienceStats::render_errors},
    {"viewcache_wait_timeouts_total",
     "Misses that waited longer than wait_timeout for another render.",
     &AudienceStats::wait_timeouts},
}};

constexpr std::array<Audience, 2> audiences{Audience::anonymous, Audience::signed_in};

}  // namespace

namespace {

// Adds the store's per-label counts to the routes they belong to. PageCache
// labels entries "<route>|<audience>"; the audience follows the last '|'.
void add_store_labels(const std::vector<MemoryStore::LabelStats>& labels,
                      MetricsSnapshot& snapshot) {
  for (const MemoryStore::LabelStats& label : labels) {
    const std::size_t bar = label.label.rfind('|');
    if (bar == std::string::npos) {
      continue;
    }
    const std::string_view route = std::string_view{label.label}.substr(0, bar);
    const Audience audience = std::string_view{label.label}.substr(bar + 1) == "auth"
                                  ? Audience::signed_in
                                  : Audience::anonymous;
    for (RouteStats& stats : snapshot.routes) {
      if (stats.route == route) {
        AudienceStats& counts = stats.audiences[static_cast<std::size_t>(audience)];
        counts.store_entries += label.entries;
        counts.store_bytes += label.bytes;
        counts.evicted_capacity += label.evicted_capacity;
        counts.evicted_expired += label.evicted_expired;
      }
    }
  }
}

// The per-route store series, written only for a MemoryStore. Each metric's
// samples follow its own HELP and TYPE lines, as the text format requires.
void write_store_series(const MetricsSnapshot& snapshot, std::string& out) {
  if (!snapshot.store) {
    return;
  }
  struct Series {
    std::string_view name;
    std::string_view type;
    std::string_view help;
    std::uint64_t AudienceStats::*value;
    std::string_view reason;  // empty: no reason label
  };
  constexpr std::array<Series, 4> series{{
      {"viewcache_route_store_entries", "gauge", "Entries in the store, by route and audience.",
       &AudienceStats::store_entries, ""},
      {"viewcache_route_store_bytes", "gauge",
       "Bytes charged to the store's budget, by route and audience.",
       &AudienceStats::store_bytes, ""},
      {"viewcache_route_evictions_total", "counter",
       "Entries the store removed, by route, audience and reason: capacity or expired.",
       &AudienceStats::evicted_capacity, "capacity"},
      {"viewcache_route_evictions_total", "counter", "", &AudienceStats::evicted_expired,
       "expired"},
  }};
  for (const Series& metric : series) {
    if (!metric.help.empty()) {
      append_header(out, metric.name, metric.type, metric.help);
    }
    for (const RouteStats& route : snapshot.routes) {
      for (const Audience audience : {Audience::anonymous, Audience::signed_in}) {
        const std::string_view label = to_label(audience);
        const std::uint64_t value = route.of(audience).*metric.value;
        if (metric.reason.empty()) {
          append_sample(out, metric.name, {{"route", route.route}, {"audience", label}}, value);
        } else {
          append_sample(out, metric.name,
                        {{"route", route.route}, {"audience", label}, {"reason", metric.reason}},
                        value);
        }
      }
    }
  }
}

}  // namespace

MetricsSnapshot metrics_snapshot(const PageCache& cache) {
  MetricsSnapshot snapshot{.totals = cache.stats(),
                           .event_hook_errors = cache.metrics_->event_hook_errors.load(
                               std::memory_order_relaxed),
                           .warm_failures = cache.metrics_->warm_failures.load(
                               std::memory_order_relaxed)};

  cache.metrics_->for_each_route([&](const detail::RouteCounters& counters) {
    RouteStats& route = snapshot.routes.emplace_back();
    route.route = counters.name;
    for (const Audience audience : audiences) {
      route.audiences[static_cast<std::size_t>(audience)] =
          load(counters.audiences[static_cast<std::size_t>(audience)]);
    }
  });

  if (const auto* memory_store = dynamic_cast<const MemoryStore*>(&cache.store())) {
    snapshot.store = memory_store->stats();
    add_store_labels(memory_store->label_stats(), snapshot);
  }
  return snapshot;
}

void write_prometheus(const MetricsSnapshot& snapshot, std::string& out) {
  for (const RouteCounter& counter : route_counters) {
    append_header(out, counter.name, "counter", counter.help);
    for (const RouteStats& route : snapshot.routes) {
      for (const Audience audience : audiences) {
        append_sample(out, counter.name,
                      {{"route", route.route}, {"audience", to_label(audience)}},
                      route.of(audience).*counter.value);
      }
    }
  }

  constexpr std::string_view bypassed = "viewcache_bypassed_total";
  append_header(out, bypassed, "counter",
                "Requests not served from the store, by reason: method (not GET or HEAD), key "
                "(no key built) or leak (the leak guard disabled the route).");
  for (const RouteStats& route : snapshot.routes) {
    for (const Audience audience : audiences) {
      const AudienceStats& stats = route.of(audience);
      const std::string_view label = to_label(audience);
      append_sample(out, bypassed,
                    {{"route", route.route}, {"audience", label}, {"reason", "method"}},
                    stats.bypassed_method);
      append_sample(out, bypassed, {{"route", route.route}, {"audience", label}, {"reason", "key"}},
                    stats.bypassed_key);
      append_sample(out, bypassed,
                    {{"route", route.route}, {"audience", label}, {"reason", "leak"}},
                    stats.bypassed_leak);
    }
  }

  // Every reason but store itself, which is not a refusal.
  constexpr std::string_view refused = "viewcache_refused_total";
  append_header(out, refused, "counter", "Rendered pages not stored, by reason.");
  for (const RouteStats& route : snapshot.routes) {
    for (const Audience audience : audiences) {
      for (std::size_t i = 1; i < store_decision_count; ++i) {
        append_sample(out, refused,
                      {{"route", route.route},
                       {"audience", to_label(audience)},
                       {"reason", to_string(static_cast<StoreDecision>(i))}},
                      route.of(audience).refused[i]);
      }
    }
  }

  append_header(out, "viewcache_waiting", "gauge",
                "Requests waiting for another request's render right now.");
  append_sample(out, "viewcache_waiting", {}, snapshot.totals.waiting);
  append_header(out, "viewcache_event_hook_errors_total", "counter",
                "Exceptions thrown by the event hook and caught by the cache.");
  append_sample(out, "viewcache_event_hook_errors_total", {}, snapshot.event_hook_errors);
  append_header(out, "viewcache_warm_failures_total", "counter",
                "Entries of PageCache::warm() that threw.");
  append_sample(out, "viewcache_warm_failures_total", {}, snapshot.warm_failures);

  if (!snapshot.store) {
    return;
  }
  const MemoryStore::Stats& store = *snapshot.store;
  append_header(out, "viewcache_store_entries", "gauge", "Entries in the store.");
  append_sample(out, "viewcache_store_entries", {}, store.entries);
  append_header(out, "viewcache_store_bytes", "gauge",
                "Bytes charged to the store's budget: keys, pages and per-entry overhead.");
  append_sample(out, "viewcache_store_bytes", {}, store.bytes);
  append_header(out, "viewcache_store_evictions_total", "counter",
                "Entries removed by the store, by reason: capacity (to make room, rejected new "
                "pages included) or expired.");
  append_sample(out, "viewcache_store_evictions_total", {{"reason", "capacity"}},
                store.evicted_capacity);
  append_sample(out, "viewcache_store_evictions_total", {{"reason", "expired"}},
                store.evicted_expired);
  write_store_series(snapshot, out);
}

void write_prometheus(const PageCache& cache, std::string& out) {
  write_prometheus(metrics_snapshot(cache), out);
}

}  // namespace viewcache
