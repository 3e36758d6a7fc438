#include "viewcache/page_cache.hpp"

#include <boost/unordered/unordered_flat_map.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <random>
#include <new>
#include <stdexcept>
#include <vector>

#include "ascii.hpp"
#include "metrics_registry.hpp"
#include "serial_executor.hpp"
#include "viewcache/auth_aware_key_policy.hpp"

namespace viewcache {

namespace detail {

struct Flight {
  std::mutex mutex;
  std::condition_variable finished;
  bool done = false;
  std::shared_ptr<const Page> page;  // the leader's page, when waiters may share it
  std::chrono::milliseconds ttl{0};
  std::exception_ptr error;          // the leader's exception, if render threw
  std::size_t waiters = 0;           // guarded by the flight table's shard mutex
};

namespace {
// The keys this thread is rendering, innermost last. Fragments nest a few
// levels deep at most, so a linear search is fastest.
thread_local std::vector<std::string_view> rendering_keys;
}  // namespace

RenderScope::RenderScope(std::string_view key) : key_(key) {
  if (!key_.empty()) {
    rendering_keys.push_back(key_);
  }
}

RenderScope::~RenderScope() {
  if (!key_.empty()) {
    rendering_keys.pop_back();
  }
}

bool RenderScope::active(std::string_view key) noexcept {
  for (const std::string_view rendering : rendering_keys) {
    if (rendering == key) {
      return true;
    }
  }
  return false;
}

}  // namespace detail

namespace {

// The stale-while-revalidate and stale-if-error windows of page: the route's,
// widened by the response's own Cache-Control directives (RFC 5861) when the
// route takes its TTL from the response.
struct StaleWindows {
  std::chrono::milliseconds revalidate;
  std::chrono::milliseconds if_error;
};

StaleWindows stale_windows(const Page& page, const CacheOptions& options) noexcept {
  StaleWindows windows{options.stale_while_revalidate, options.stale_if_error};
  if (!options.storage.ttl_from_response) {
    return windows;
  }
  for (const Header& header : page.headers) {
    if (!detail::iequals(header.name, "Cache-Control")) {
      continue;
    }
    if (const auto seconds = cache_control_seconds(header.value, "stale-while-revalidate")) {
      windows.revalidate = std::max<std::chrono::milliseconds>(windows.revalidate,
                                                               std::chrono::seconds{*seconds});
    }
    if (const auto seconds = cache_control_seconds(header.value, "stale-if-error")) {
      windows.if_error = std::max<std::chrono::milliseconds>(windows.if_error,
                                                             std::chrono::seconds{*seconds});
    }
  }
  return windows;
}

// Background refreshes queued at most in the built-in executor.
constexpr std::size_t refresh_queue_size = 256;

bool is_lookup_method(std::string_view method, const StorageRules& rules) noexcept {
  return method == "GET" || method == "HEAD" ||
         std::find(rules.extra_methods.begin(), rules.extra_methods.end(), method) !=
             rules.extra_methods.end();
}

std::shared_ptr<const Page> without_set_cookie(const Page& page) {
  auto copy = std::make_shared<Page>(page);
  std::erase_if(copy->headers,
                [](const Header& header) { return detail::iequals(header.name, "Set-Cookie"); });
  return copy;
}

}  // namespace

struct PageCache::Counters {
  detail::StripedCounter hits;  // every hit adds to it, so it is striped
  std::atomic<std::uint64_t> misses{0};
  std::atomic<std::uint64_t> renders{0};
  std::atomic<std::uint64_t> stored{0};
  std::atomic<std::uint64_t> collapsed{0};
  std::atomic<std::uint64_t> wait_timeouts{0};
  std::atomic<std::uint64_t> waiting{0};
  std::atomic<std::uint64_t> audited{0};
  std::atomic<std::uint64_t> leaks{0};
  std::array<std::atomic<std::uint64_t>, store_decision_count> refused{};

  // Incremented before each invalidation removes anything. A render that finds
  // it changed between its miss and its store does not keep its page.
  std::atomic<std::uint64_t> invalidations{0};
};

// Renders in progress, by key, in shards so that misses on different keys
// rarely share a mutex. Touched only on misses, never on hits.
class PageCache::FlightTable {
 public:
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const noexcept {
      return boost::hash<std::string_view>{}(key);
    }
  };

  struct Shard {
    std::mutex mutex;
    boost::unordered_flat_map<std::string, std::shared_ptr<detail::Flight>, KeyHash,
                              std::equal_to<>>
        flights;
  };

  Shard& shard_for(std::string_view key) noexcept {
    return shards_[std::hash<std::string_view>{}(key) % shards_.size()];
  }

  // Ends a leader's flight: removes it from the table, so later misses start
  // a new one, and wakes the waiters with page (nullptr when it may not be
  // shared) or error.
  void finish(std::string_view key, detail::Flight& flight, std::shared_ptr<const Page> page,
              std::chrono::milliseconds ttl, std::exception_ptr error) noexcept {
    {
      Shard& shard = shard_for(key);
      std::lock_guard lock(shard.mutex);
      shard.flights.erase(key);
    }
    {
      std::lock_guard lock(flight.mutex);
      flight.page = std::move(page);
      flight.ttl = ttl;
      flight.error = std::move(error);
      flight.done = true;
    }
    flight.finished.notify_all();
  }

 private:
  std::array<Shard, 16> shards_;
};

// Routes whose shared pages the leak guard found to depend on the reader,
// each with the key policy it was caught with. Read on every lookup once any
// leak is known, so the common case (none) costs one relaxed load.
class PageCache::LeakRegistry {
 public:
  [[nodiscard]] bool contains(std::string_view route, const CacheKeyPolicy* policy) const {
    if (count_.load(std::memory_order_acquire) == 0) {
      return false;
    }
    std::lock_guard lock(mutex_);
    return std::any_of(entries_.begin(), entries_.end(), [&](const Entry& entry) {
      return entry.route == route && entry.policy == policy;
    });
  }

  // Returns true when the route was not listed yet, so that concurrent
  // audits that find the same leak report it once.
  bool add(std::string_view route, const CacheKeyPolicy* policy) {
    std::lock_guard lock(mutex_);
    for (const Entry& entry : entries_) {
      if (entry.route == route && entry.policy == policy) {
        return false;
      }
    }
    entries_.push_back({std::string{route}, policy});
    count_.store(entries_.size(), std::memory_order_release);
    return true;
  }

  [[nodiscard]] std::vector<std::string> routes() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> names;
    for (const Entry& entry : entries_) {
      names.push_back(entry.route.empty() ? std::string{"(unnamed route)"} : entry.route);
    }
    return names;
  }

 private:
  struct Entry {
    std::string route;
    const CacheKeyPolicy* policy = nullptr;  // compared, never dereferenced
  };

  mutable std::mutex mutex_;
  std::vector<Entry> entries_;
  std::atomic<std::size_t> count_{0};
};

namespace {

// Returns true for a fraction `probability` of calls, from a per-thread
// generator, so sampling takes no lock.
bool sampled(double probability) noexcept {
  if (probability <= 0.0) {
    return false;
  }
  if (probability >= 1.0) {
    return true;
  }
  thread_local std::minstd_rand generator{std::random_device{}()};
  return std::uniform_real_distribution<double>{0.0, 1.0}(generator) < probability;
}

// Decides whether the leak guard audits this request's page. Only a shared
// variant read by a signed-in reader can carry another user's data.
bool leak_audit_due(const Request& request, const CacheKeyPolicy& policy,
                    const CacheOptions& options) noexcept {
  return request.viewer.audience == Audience::signed_in && !policy.varies_by_user() &&
         sampled(options.leak_guard_sample);
}

}  // namespace

namespace {

// The RFC 9211 value without the key parameter.
std::string status_without_key(const CacheResult& result) {
  const CacheOutcome outcome = result.outcome;
  const std::chrono::milliseconds ttl = result.ttl;
  const std::shared_ptr<const Page>& page = result.page;
  const StoreDecision decision = result.decision;
  const KeyStatus key_status = result.key_status;
  switch (outcome) {
    case CacheOutcome::hit:
      // Rounded up, so a page with 0.4 s of freshness left is not reported
      // as already stale.
      return fmt::format("viewcache; hit; ttl={}", std::chrono::ceil<std::chrono::seconds>(ttl).count());
    case CacheOutcome::miss_stored:
      return "viewcache; fwd=miss; stored";
    case CacheOutcome::miss_not_stored:
      return fmt::format("viewcache; fwd=miss; fwd-status={}; detail={}", page->status,
                         to_string(decision));
    case CacheOutcome::bypass_method:
      return fmt::format("viewcache; fwd=method; fwd-status={}", page->status);
    case CacheOutcome::bypass_key:
      return fmt::format("viewcache; fwd=bypass; fwd-status={}; detail={}", page->status,
                         to_string(key_status));
    case CacheOutcome::collapsed:
      return "viewcache; fwd=miss; collapsed";
    case CacheOutcome::stale:
      return fmt::format("viewcache; hit; ttl={}; detail=stale-if-error",
                         std::chrono::floor<std::chrono::seconds>(ttl).count());
    case CacheOutcome::stale_revalidating:
      return fmt::format("viewcache; hit; ttl={}; detail=stale-while-revalidate",
                         std::chrono::floor<std::chrono::seconds>(ttl).count());
    case CacheOutcome::bypass_leak:
      return fmt::format("viewcache; fwd=bypass; fwd-status={}; detail=leak-guard", page->status);
  }
  return "viewcache";
}

// Appends value as an RFC 8941 sf-string: quoted, with '\\' and '"' escaped.
void append_sf_string(std::string_view value, std::string& out) {
  out.push_back('"');
  for (const char c : value) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  out.push_back('"');
}

// Shortens ttl by a random amount up to jitter, keeping at least 1 ms.
std::chrono::milliseconds jittered(std::chrono::milliseconds ttl,
                                   std::chrono::milliseconds jitter) noexcept {
  if (jitter.count() <= 0 || ttl.count() <= 1) {
    return ttl;
  }
  thread_local std::minstd_rand generator{std::random_device{}()};
  const std::int64_t span = std::min(jitter.count(), ttl.count() - 1);
  std::uniform_int_distribution<std::int64_t> cut(0, span);
  return ttl - std::chrono::milliseconds{cut(generator)};
}

}  // namespace

std::string CacheResult::cache_status() const {
  std::string value = status_without_key(*this);
  if (forwarded_stale) {
    if (const std::size_t fwd = value.find("fwd=miss"); fwd != std::string::npos) {
      value.replace(fwd, 8, "fwd=stale");
    }
  }
  if (!key.empty()) {
    value += "; key=";
    append_sf_string(key, value);
  }
  return value;
}

PageCache::PageCache(std::shared_ptr<Store> store,
                     std::shared_ptr<const CacheKeyPolicy> default_policy)
    : PageCache(std::move(store), Options{.default_policy = std::move(default_policy)}) {}

PageCache::PageCache(std::shared_ptr<Store> store, Options options)
    : store_(std::move(store)),
      default_policy_(std::move(options.default_policy)),
      flights_(std::make_shared<FlightTable>()),
      counters_(std::make_unique<Counters>()),
      leaks_(std::make_unique<LeakRegistry>()),
      metrics_(std::make_unique<detail::Metrics>(std::move(options.on_event))),
      expose_key_(options.expose_key),
      executor_(std::move(options.executor)) {
  if (executor_ == nullptr) {
    auto built_in = std::make_shared<detail::SerialExecutor>(refresh_queue_size);
    executor_ = [executor = built_in.get()](std::function<void()> task) {
      if (!executor->submit(std::move(task))) {
        throw std::runtime_error("the refresh queue is full");
      }
    };
    owned_executor_ = std::move(built_in);
  }
  if (store_ == nullptr) {
    throw std::invalid_argument("PageCache: store is nullptr; pass a store such as "
                                "std::make_shared<viewcache::MemoryStore>()");
  }
  if (default_policy_ == nullptr) {
    default_policy_ = std::make_shared<const AuthAwareKeyPolicy>();
  }
}

PageCache::~PageCache() = default;

PageCacheStats PageCache::stats() const noexcept {
  const Counters& counters = *counters_;
  PageCacheStats stats{.hits = counters.hits.load(),
                       .misses = counters.misses.load(std::memory_order_relaxed),
                       .renders = counters.renders.load(std::memory_order_relaxed),
                       .stored = counters.stored.load(std::memory_order_relaxed),
                       .collapsed = counters.collapsed.load(std::memory_order_relaxed),
                       .wait_timeouts = counters.wait_timeouts.load(std::memory_order_relaxed),
                       .waiting = counters.waiting.load(std::memory_order_relaxed),
                       .audited = counters.audited.load(std::memory_order_relaxed),
                       .leaks = counters.leaks.load(std::memory_order_relaxed)};
  for (std::size_t i = 0; i < store_decision_count; ++i) {
    stats.refused[i] = counters.refused[i].load(std::memory_order_relaxed);
  }
  return stats;
}

const CacheKeyPolicy& PageCache::policy_for(const CacheOptions& options) const noexcept {
  return options.key_policy != nullptr ? *options.key_policy : *default_policy_;
}

PageCache::Lookup PageCache::look_up(const Request& request, const CacheOptions& options) const {
  Lookup lookup;
  lookup.route = &metrics_->route(options.route);
  lookup.audience = request.viewer.audience;
  detail::AudienceCounters& route_counters = lookup.route->of(lookup.audience);

  if (!is_lookup_method(request.method, options.storage)) {
    lookup.result.outcome = CacheOutcome::bypass_method;
    route_counters.bypassed_method.fetch_add(1, std::memory_order_relaxed);
    metrics_->emit({.kind = CacheEventKind::bypass,
                    .route = lookup.route->name,
                    .audience = lookup.audience,
                    .method = request.method});
    return lookup;
  }

  const CacheKeyPolicy& policy = policy_for(options);
  // Only signed-in readers' variants were audited, so only they are held
  // back; the anonymous variant names no reader and stays cached.
  if (request.viewer.audience == Audience::signed_in && leaks_->contains(options.route, &policy)) {
    lookup.result.outcome = CacheOutcome::bypass_leak;
    route_counters.bypassed_leak.fetch_add(1, std::memory_order_relaxed);
    return lookup;
  }

  // An extra method (StorageRules::extra_methods) gets entries of its own.
  // Its key is prefixed with the method and ':'. No method token and no key
  // of the default policy (always "view/...") has ':' at that place, so a
  // POST page is never served to a GET of the same URL.
  const bool extra_method = request.method != "GET" && request.method != "HEAD";
  if (extra_method) {
    lookup.key.append(request.method);
    lookup.key.push_back(':');
  }
  const KeyStatus status = policy.append_key(request, lookup.key);
  if (status == KeyStatus::ok && expose_key_) {
    lookup.result.key = std::string{lookup.key.view()};
  }
  if (status != KeyStatus::ok) {
    lookup.key.clear();
    lookup.result.outcome = CacheOutcome::bypass_key;
    lookup.result.key_status = status;
    route_counters.bypassed_key.fetch_add(1, std::memory_order_relaxed);
    metrics_->emit({.kind = CacheEventKind::bypass,
                    .route = lookup.route->name,
                    .audience = lookup.audience,
                    .method = request.method,
                    .key_status = status});
    return lookup;
  }

  Store::Hit hit = store_->get(lookup.key.view());
  if (hit && hit.stale) {
    // Within stale-while-revalidate, the stale page is served while it is
    // refreshed in the background. Within stale-if-error, it is a miss with
    // a fallback. Either only for a route that accepts stale pages this old.
    const std::chrono::milliseconds age = -hit.ttl_left;
    const StaleWindows windows = stale_windows(*hit.page, options);
    // NOTE: stale pages are not audited by the leak guard, because a fresh
    // render may differ from a stale page for good reason. A mis-keyed route
    // is caught by the audits of its fresh hits, and from then on its
    // signed-in readers get no stored page, stale ones included.
    if (windows.revalidate.count() > 0 && age <= windows.revalidate) {
      lookup.stale = std::move(hit.page);
      lookup.stale_ttl = hit.ttl_left;
      lookup.revalidate = true;
      return lookup;
    }
    if (windows.if_error.count() > 0 && age <= windows.if_error) {
      lookup.stale = std::move(hit.page);
      lookup.stale_ttl = hit.ttl_left;
    }
    hit = {};
  }
  if (hit) {
    counters_->hits.add();
    route_counters.hits.add();
    lookup.result.outcome = CacheOutcome::hit;
    lookup.result.page = std::move(hit.page);
    lookup.result.ttl = hit.ttl_left;
    lookup.audit = leak_audit_due(request, policy, options);
    return lookup;
  }

  counters_->misses.fetch_add(1, std::memory_order_relaxed);
  lookup.invalidations = counters_->invalidations.load();
  route_counters.misses.fetch_add(1, std::memory_order_relaxed);
  join_flight(request, options, lookup);

  // Counted here rather than in join_flight(), which still holds the
  // flight's mutex when it returns from a wait: the hook must run unlocked.
  if (lookup.role == detail::FlightRole::collapsed) {
    route_counters.collapsed.fetch_add(1, std::memory_order_relaxed);
    // The leader's page was rendered for another reader: audit it as a hit.
    lookup.audit = leak_audit_due(request, policy, options);
  } else if (lookup.role == detail::FlightRole::solo_without_store) {
    route_counters.wait_timeouts.fetch_add(1, std::memory_order_relaxed);
    metrics_->emit({.kind = CacheEventKind::wait_timeout,
                    .route = lookup.route->name,
                    .audience = lookup.audience,
                    .key = lookup.key.view()});
  }
  return lookup;
}

// Decides this miss's role: lead a new render of the key, wait for the one in
// progress, or render alone. A waiter that receives the leader's page leaves
// with lookup.result set to CacheOutcome::collapsed.
void PageCache::join_flight(const Request& request, const CacheOptions& options,
                            Lookup& lookup) const {
  const std::string_view key = lookup.key.view();
  if (detail::RenderScope::active(key)) {
    throw std::logic_error(fmt::format(
        "PageCache::cached: the render of key \"{}\" called cached() for the same key, which "
        "would wait for itself; render the fragment under a path of its own, or call its render "
        "function directly",
        key));
  }

  FlightTable::Shard& shard = flights_->shard_for(key);
  std::shared_ptr<detail::Flight> flight;
  {
    std::lock_guard lock(shard.mutex);
    const auto found = shard.flights.find(key);
    if (found == shard.flights.end()) {
      // Only a GET leads: a HEAD render has no body to hand to GET waiters.
      if (request.method == "GET") {
        lookup.flight = std::make_shared<detail::Flight>();
        shard.flights.emplace(std::string{key}, lookup.flight);
        lookup.role = detail::FlightRole::leader;
      }
      return;
    }
    if (found->second->waiters >= options.max_waiters) {
      return;  // solo: too many waiters already
    }
    flight = found->second;
    ++flight->waiters;
  }

  counters_->waiting.fetch_add(1, std::memory_order_relaxed);
  std::unique_lock wait_lock(flight->mutex);
  const bool done = flight->finished.wait_for(wait_lock, options.wait_timeout,
                                              [&] { return flight->done; });
  counters_->waiting.fetch_sub(1, std::memory_order_relaxed);

  if (!done) {
    counters_->wait_timeouts.fetch_add(1, std::memory_order_relaxed);
    lookup.role = detail::FlightRole::solo_without_store;
    return;
  }
  if (flight->page != nullptr) {
    counters_->collapsed.fetch_add(1, std::memory_order_relaxed);
    lookup.role = detail::FlightRole::collapsed;
    // A leader that fell back to its stale page hands that page on, with
    // the stale page's (zero or negative) freshness.
    lookup.result.outcome =
        flight->ttl.count() <= 0 ? CacheOutcome::stale : CacheOutcome::collapsed;
    lookup.result.page = flight->page;
    lookup.result.ttl = flight->ttl;
    return;
  }
  if (flight->error != nullptr && options.on_leader_error == OnLeaderError::rethrow) {
    std::rethrow_exception(flight->error);
  }
  // The leader's page may not be shared (Set-Cookie, a 404, private), or the
  // leader failed and this route renders on failure: render alone.
}

void PageCache::abandon_flight(Lookup& lookup, std::exception_ptr error) const noexcept {
  counters_->renders.fetch_add(1, std::memory_order_relaxed);
  lookup.route->of(lookup.audience).render_errors.fetch_add(1, std::memory_order_relaxed);
  if (metrics_->has_hook()) {
    try {
      const std::string message = detail::exception_message(error);
      metrics_->emit({.kind = CacheEventKind::render_error,
                      .route = lookup.route->name,
                      .audience = lookup.audience,
                      .key = lookup.key.view(),
                      .message = message});
    } catch (const std::bad_alloc&) {
      // Copying the message failed: the event is dropped, the count is kept.
    }
  }

  if (lookup.role == detail::FlightRole::leader) {
    flights_->finish(lookup.key.view(), *lookup.flight, nullptr, {}, std::move(error));
    lookup.flight.reset();
  }
}

CacheResult PageCache::store_rendered(const Request& request, const CacheOptions& options,
                                      Lookup& lookup, std::shared_ptr<const Page> page) const {
  counters_->renders.fetch_add(1, std::memory_order_relaxed);
  CacheResult result = lookup.result;
  result.page = std::move(page);
  if (lookup.key.empty()) {
    return result;
  }

  // RFC 5861: a server error from the render is replaced by the stale page.
  if (result.page->status >= 500 && lookup.stale != nullptr) {
    return serve_stale(lookup);
  }

  result.outcome = CacheOutcome::miss_not_stored;
  result.forwarded_stale = lookup.stale != nullptr;
  result.decision = decide_storage(request, *result.page, options.storage);
  const std::chrono::milliseconds ttl =
      jittered(storage_ttl(*result.page, options.storage, options.ttl), options.ttl_jitter);
  if (result.decision == StoreDecision::store && ttl.count() <= 0) {
    result.decision = StoreDecision::refuse_ttl;
  }
  if (result.decision == StoreDecision::store &&
      lookup.role == detail::FlightRole::solo_without_store) {
    result.decision = StoreDecision::wait_timed_out;
  }

  // The stored (and shared) copy never carries the reader's Set-Cookie; the
  // reader still gets the page as rendered.
  std::shared_ptr<const Page> shared = result.page;
  if (result.decision == StoreDecision::store && result.page->has_header("Set-Cookie")) {
    shared = without_set_cookie(*result.page);
  }

  if (result.decision == StoreDecision::store) {
    store_page(request, options, lookup, shared, ttl, result);
  }
  detail::AudienceCounters& route_counters = lookup.route->of(lookup.audience);
  if (result.decision == StoreDecision::store) {
    route_counters.stored.fetch_add(1, std::memory_order_relaxed);
  } else {
    counters_->refused[static_cast<std::size_t>(result.decision)].fetch_add(
        1, std::memory_order_relaxed);
    route_counters.refused[static_cast<std::size_t>(result.decision)].fetch_add(
        1, std::memory_order_relaxed);
  }

  // Waiters share the page whenever HTTP allows storing it, even if the store
  // declined it for size.
  if (lookup.role == detail::FlightRole::leader) {
    const bool shareable = result.decision == StoreDecision::store ||
                           result.decision == StoreDecision::store_declined;
    flights_->finish(lookup.key.view(), *lookup.flight, shareable ? shared : nullptr, ttl,
                     nullptr);
    lookup.flight.reset();
  }

  // Reported after finish(), so waiters do not wait for the hook.
  if (result.decision == StoreDecision::store) {
    metrics_->emit({.kind = CacheEventKind::store,
                    .route = lookup.route->name,
                    .audience = lookup.audience,
                    .key = lookup.key.view(),
                    .bytes = shared->byte_size()});
  } else {
    metrics_->emit({.kind = CacheEventKind::refusal,
                    .route = lookup.route->name,
                    .audience = lookup.audience,
                    .key = lookup.key.view(),
                    .decision = result.decision,
                    .status = result.page->status});
  }
  return result;
}

// Serves the stale page kept for stale-if-error, and hands it to the flight's
// waiters too: their render would fail the same way.
CacheResult PageCache::serve_stale(Lookup& lookup) const {
  counters_->renders.fetch_add(1, std::memory_order_relaxed);
  lookup.route->of(lookup.audience).stale_served.fetch_add(1, std::memory_order_relaxed);
  if (lookup.role == detail::FlightRole::leader) {
    flights_->finish(lookup.key.view(), *lookup.flight, lookup.stale, lookup.stale_ttl, nullptr);
    lookup.flight.reset();
  }
  CacheResult result;
  result.page = std::move(lookup.stale);
  result.outcome = CacheOutcome::stale;
  result.ttl = lookup.stale_ttl;
  result.key = lookup.result.key;
  return result;
}

// Serves the stale page and, unless a refresh of the key is already under
// way, claims the key's flight and hands one refresh to the executor. The
// refresh owns copies of everything it reads, because it runs after this
// request has returned.
CacheResult PageCache::revalidate(const Request& request, const CacheOptions& options,
                                  Lookup& lookup, std::function<Page()> render) {
  lookup.route->of(lookup.audience).stale_served.fetch_add(1, std::memory_order_relaxed);
  CacheResult result;
  result.page = lookup.stale;
  result.outcome = CacheOutcome::stale_revalidating;
  result.ttl = lookup.stale_ttl;
  result.key = lookup.result.key;

  // Only a GET refreshes: a HEAD render has no body to store.
  if (request.method != "GET") {
    return result;
  }

  const std::string key{lookup.key.view()};
  auto flight = std::make_shared<detail::Flight>();
  {
    FlightTable::Shard& shard = flights_->shard_for(key);
    std::lock_guard lock(shard.mutex);
    if (!shard.flights.emplace(key, flight).second) {
      return result;  // a refresh or a render of this key is already running
    }
  }

  // Releases the key if the executor destroys the task without running it,
  // so a later request can refresh again instead of waiting for a flight
  // that never ends.
  struct Claim {
    std::shared_ptr<FlightTable> table;
    std::string key;
    std::shared_ptr<detail::Flight> flight;
    ~Claim() {
      if (flight == nullptr) {
        return;  // moved from
      }
      bool done = false;
      {
        std::lock_guard lock(flight->mutex);
        done = flight->done;
      }
      if (!done) {
        table->finish(key, *flight, nullptr, {}, nullptr);
      }
    }
  };
  std::shared_ptr<Claim> claim{new Claim{flights_, key, flight}};

  CacheOptions owned_options = options;
  owned_options.route = lookup.route->name;  // the registry's copy outlives the request
  auto task = [this, key, flight, claim, options = std::move(owned_options),
               render = std::move(render), method = std::string{request.method},
               path = std::string{request.path}, query = std::string{request.query},
               path_form = request.path_form, has_authorization = request.has_authorization,
               route = lookup.route, audience = lookup.audience,
               invalidations = counters_->invalidations.load()]() {
    Lookup refresh;
    refresh.key.append(key);
    refresh.role = detail::FlightRole::leader;
    refresh.flight = flight;
    refresh.route = route;
    refresh.audience = audience;
    refresh.invalidations = invalidations;
    const Request owned{.method = method,
                        .path = path,
                        .query = query,
                        .viewer = {.audience = audience},
                        .path_form = path_form,
                        .has_authorization = has_authorization};

    std::shared_ptr<const Page> page;
    try {
      const detail::RenderScope scope(key);
      page = std::make_shared<const Page>(with_slots(render()));
    } catch (...) {
      abandon_flight(refresh, std::current_exception());
      return;
    }
    (void)store_rendered(owned, options, refresh, std::move(page));
  };

  claim.reset();  // the task owns the claim from here on
  try {
    executor_(std::move(task));
  } catch (...) {
    // Not queued: the task, and with it the claim, is gone, which released
    // the key, so a later request tries again.
  }
  return result;
}

Page PageCache::with_slots(Page page) {
  if (page.body.find(slot_marker_prefix) != std::string::npos) {
    page.slots = find_slots(page.body);
  }
  return page;
}

// Compares a fresh render for this reader with the stored page. The same body
// (slot markers included, so per-reader slots are masked) and status mean the
// shared page is right for this reader too.
CacheResult PageCache::audit_hit(const CacheOptions& options, Lookup& lookup,
                                 std::optional<Page> fresh) const {
  CacheResult stored = std::move(lookup.result);
  if (!fresh) {
    return stored;
  }
  counters_->audited.fetch_add(1, std::memory_order_relaxed);
  if (fresh->status == stored.page->status && fresh->body == stored.page->body) {
    return stored;
  }

  if (leaks_->add(options.route, &policy_for(options))) {
    counters_->leaks.fetch_add(1, std::memory_order_relaxed);
    metrics_->emit({.kind = CacheEventKind::leak,
                    .route = lookup.route->name,
                    .audience = lookup.audience,
                    .key = lookup.key.view()});
  }
  CacheResult result;
  result.page = std::make_shared<const Page>(std::move(*fresh));
  result.outcome = CacheOutcome::bypass_leak;
  result.key = std::move(stored.key);
  return result;
}

std::vector<std::string> PageCache::leaking_routes() const { return leaks_->routes(); }

// Puts the page under its key, family and tags, and takes it out again if an
// invalidation began after the miss: the render may have read data from
// before the change. Checking after the put closes the race with an
// invalidation that runs between the check and the put, because that
// invalidation removes the page itself.
void PageCache::store_page(const Request& request, const CacheOptions& options,
                           const Lookup& lookup, const std::shared_ptr<const Page>& page,
                           std::chrono::milliseconds ttl, CacheResult& result) const {
  KeyBuffer family;
  if (policy_for(options).append_family(request, family) != KeyStatus::ok) {
    family.clear();  // a policy without families stores pages under none
  }

  const StaleWindows windows = stale_windows(*page, options);
  const std::string label =
      fmt::format("{}|{}", lookup.route->name, to_label(lookup.audience));
  const Store::PutOptions put_options{
      .family = family.view(),
      .tags = page->tags,
      .stale_for = std::max(windows.revalidate, windows.if_error),
      .label = label};
  if (!store_->put(lookup.key.view(), page, ttl, put_options)) {
    result.decision = StoreDecision::store_declined;
    return;
  }
  if (counters_->invalidations.load() != lookup.invalidations) {
    store_->erase(lookup.key.view());
    result.decision = StoreDecision::invalidated;
    return;
  }

  counters_->stored.fetch_add(1, std::memory_order_relaxed);
  result.outcome = CacheOutcome::miss_stored;
  result.ttl = ttl;
}

void PageCache::begin_invalidation() noexcept {
  counters_->invalidations.fetch_add(1);
}

bool PageCache::invalidate(const Request& request, const CacheOptions& options) {
  KeyBuffer key;
  if (policy_for(options).append_key(request, key) != KeyStatus::ok) {
    return false;
  }
  begin_invalidation();
  return store_->erase(key.view());
}

std::size_t PageCache::invalidate_variants(const Request& request, const CacheOptions& options) {
  KeyBuffer family;
  const KeyStatus status = policy_for(options).append_family(request, family);
  if (status == KeyStatus::unsupported) {
    throw std::logic_error(
        "PageCache::invalidate_variants: the key policy builds no families, so its pages were "
        "stored without one; implement CacheKeyPolicy::append_family() or use "
        "AuthAwareKeyPolicy");
  }
  if (status != KeyStatus::ok) {
    return 0;  // no page is stored under a path that cannot be keyed
  }
  begin_invalidation();
  return store_->erase_family(family.view());
}

std::size_t PageCache::invalidate_tag(std::string_view tag) {
  begin_invalidation();
  return store_->erase_tag(tag);
}

void PageCache::clear() {
  begin_invalidation();
  store_->clear();
}

}  // namespace viewcache
