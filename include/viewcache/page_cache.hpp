#pragma once

// PageCache: the wrapper that a framework's middleware calls around a page's
// render callback.
//
//   viewcache::PageCache cache{std::make_shared<viewcache::MemoryStore>()};
//
//   auto result = cache.cached(request, {.ttl = std::chrono::seconds{90}},
//                              [&] { return render_home(request); });
//   send(result.page->status, result.page->body, result.cache_status());
//
// For each call it builds the key with the route's key policy, looks it up,
// and on a miss calls render, decides whether the page may be stored
// (cacheability.hpp) and stores it.

#include <array>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "viewcache/cache_event.hpp"
#include "viewcache/cacheability.hpp"
#include "viewcache/detail/single_flight.hpp"
#include "viewcache/key_policy.hpp"
#include "viewcache/page.hpp"
#include "viewcache/request.hpp"
#include "viewcache/store.hpp"

namespace viewcache {

namespace detail {
class Metrics;
struct RouteCounters;
}  // namespace detail

struct MetricsSnapshot;

// The action of a single-flight waiter whose leader's render throws.
enum class OnLeaderError : std::uint8_t {
  // Every waiter gets the leader's exception.
  rethrow,
  // Every waiter renders for itself.
  render,
};

// Per-route caching options.
struct CacheOptions {
  // The route's name in metrics and events. An empty name counts as
  // "default". Each name becomes a label value, so it must come from a small
  // fixed set such as "home" or "course", never from a raw path or query.
  // The cache copies the name on its first use.
  std::string_view route;

  // How long a stored page stays fresh. Zero or less stores nothing.
  std::chrono::milliseconds ttl = std::chrono::seconds{60};

  // The key policy for this route; nullptr selects the cache's default.
  std::shared_ptr<const CacheKeyPolicy> key_policy;

  // Single-flight: while one request renders a key, other misses on the key
  // wait for its page, up to wait_timeout. A waiter that times out renders
  // for itself and does not store its page.
  std::chrono::milliseconds wait_timeout = std::chrono::seconds{10};

  // The maximum number of requests that wait for one render. Further misses
  // render for themselves, so a slow render cannot hold every server thread.
  std::size_t max_waiters = 256;

  OnLeaderError on_leader_error = OnLeaderError::rethrow;

  // Changes to the rules that decide whether a page is stored, such as
  // storing 404 pages for 30 s or taking the TTL from Cache-Control.
  StorageRules storage;
};

// The path one cached() call took.
enum class CacheOutcome : std::uint8_t {
  hit,
  // Looked up, missed, rendered, stored.
  miss_stored,
  // Looked up, missed, rendered; the page was not stored (see StoreDecision).
  miss_not_stored,
  // Not looked up: the method is not GET or HEAD.
  bypass_method,
  // Not looked up: the key policy built no key (see KeyStatus).
  bypass_key,
  // Missed, and received the page another request was rendering for the
  // same key (single-flight). Nothing was rendered for this request.
  collapsed,
};

struct CacheResult {
  // Never nullptr. Shared with the store on a hit.
  std::shared_ptr<const Page> page;
  CacheOutcome outcome = CacheOutcome::miss_not_stored;

  // Why the page was not stored, for CacheOutcome::miss_not_stored.
  StoreDecision decision = StoreDecision::store;

  // Why no key was built, for CacheOutcome::bypass_key.
  KeyStatus key_status = KeyStatus::ok;

  // The freshness left on a hit, or the TTL given to a newly stored page.
  std::chrono::milliseconds ttl{0};

  [[nodiscard]] bool hit() const noexcept { return outcome == CacheOutcome::hit; }

  // Returns the RFC 9211 Cache-Status field value, such as "viewcache; hit;
  // ttl=87", "viewcache; fwd=miss; stored" or "viewcache; fwd=miss; collapsed".
  [[nodiscard]] std::string cache_status() const;
};

// Counters of one PageCache since it was built, read without locking.
struct PageCacheStats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;       // lookups that found nothing, collapsed ones included
  std::uint64_t renders = 0;      // render calls made by cached(), on misses and bypasses
  std::uint64_t stored = 0;
  std::uint64_t collapsed = 0;    // misses served with another request's render
  std::uint64_t wait_timeouts = 0;
  std::uint64_t waiting = 0;      // requests waiting for a render right now

  // Rendered pages not stored, by reason (index: StoreDecision).
  std::array<std::uint64_t, store_decision_count> refused{};

  [[nodiscard]] std::uint64_t refused_for(StoreDecision reason) const noexcept {
    return refused[static_cast<std::size_t>(reason)];
  }
};

// One request for PageCache::warm(): the request and route options as
// traffic would bring them, and the render function for the page. The
// request's string views must stay valid until warm() returns.
struct WarmRequest {
  Request request;
  CacheOptions options;
  std::function<Page()> render;
};

class PageCache {
 public:
  struct Options {
    // The key policy for routes without their own. nullptr selects
    // AuthAwareKeyPolicy with its default options.
    std::shared_ptr<const CacheKeyPolicy> default_policy;

    // Called for each store, refusal, render error, wait timeout, bypass and
    // warm failure (cache_event.hpp), never for hits. It runs synchronously
    // on the thread of the request, after the cache has released its locks,
    // so it must be cheap and thread-safe. It must not throw: an exception it
    // throws is caught and counted (MetricsSnapshot::event_hook_errors).
    std::function<void(const CacheEvent&)> on_event;
  };

  // A callable that renders a page: Page render().
  template <typename F>
  static constexpr bool is_render = std::is_invocable_r_v<Page, F&>;

  // Throws std::invalid_argument when store is nullptr. A nullptr
  // default_policy selects AuthAwareKeyPolicy with its default options.
  explicit PageCache(std::shared_ptr<Store> store,
                     std::shared_ptr<const CacheKeyPolicy> default_policy = nullptr);

  // The same, with options. Throws std::invalid_argument when store is nullptr.
  PageCache(std::shared_ptr<Store> store, Options options);

  // Serves request from the store, or renders, decides cacheability and stores.
  //
  // - GET and HEAD are looked up under the same key. Other methods bypass the
  //   store: render is called and nothing is stored.
  // - Single-flight: on a GET miss with no render of the key in progress,
  //   this call leads: it renders once, in this thread, stores the page if
  //   decide_storage() allows it, and hands that page to every request that
  //   missed the same key meanwhile (CacheOutcome::collapsed). A waiter gets
  //   the leader's page only if it may be stored, so it never receives a page
  //   with another session's Set-Cookie; otherwise it renders for itself.
  //   HEAD misses wait for a GET leader but never lead.
  // - If render throws, nothing is stored, the exception propagates, and each
  //   waiter rethrows it or renders for itself (options.on_leader_error).
  // - A waiter that waits longer than options.wait_timeout, or finds
  //   options.max_waiters already waiting, renders for itself.
  // - A render may call cached() for other keys (fragments). Calling it for
  //   the key being rendered throws std::logic_error instead of deadlocking.
  //
  // Thread-safe. The returned page stays valid however long the caller keeps
  // it, even after the entry is evicted.
  template <typename F>
    requires is_render<F>
  CacheResult cached(const Request& request, const CacheOptions& options, F&& render) {
    Lookup lookup = look_up(request, options);
    if (lookup.result.hit() || lookup.result.outcome == CacheOutcome::collapsed) {
      return std::move(lookup.result);
    }

    std::shared_ptr<const Page> page;
    try {
      const detail::RenderScope scope(lookup.key.view());
      page = std::make_shared<const Page>(std::forward<F>(render)());
    } catch (...) {
      abandon_flight(lookup, std::current_exception());
      throw;
    }
    return store_rendered(request, options, lookup, std::move(page));
  }

  // Renders and stores each request ahead of traffic, as cached() would on a
  // miss, one after the other in this thread. Returns the number of pages
  // stored. A request whose page is already fresh is not rendered again, and
  // a page the storage rules refuse is not stored; neither is counted.
  //
  // An entry whose render (or cached() itself) throws, or whose render
  // function is empty, is counted (MetricsSnapshot::warm_failures) and
  // reported as a warm_failure event. Warming then goes on with the next
  // entry, so warm() throws only std::bad_alloc.
  std::size_t warm(std::span<const WarmRequest> requests);

  // Removes the page that request would be served from. Returns true when an
  // entry was removed.
  bool invalidate(const Request& request, const CacheOptions& options = {});

  [[nodiscard]] Store& store() const noexcept { return *store_; }

  [[nodiscard]] PageCacheStats stats() const noexcept;

  // Takes a snapshot of the per-route counters and the store's (metrics.hpp).
  friend MetricsSnapshot metrics_snapshot(const PageCache& cache);

  ~PageCache();
  PageCache(const PageCache&) = delete;
  PageCache& operator=(const PageCache&) = delete;

 private:
  struct Counters;
  class FlightTable;

  struct Lookup {
    CacheResult result;
    KeyBuffer key;  // empty when the request bypasses the store
    detail::FlightRole role = detail::FlightRole::solo;
    std::shared_ptr<detail::Flight> flight;  // set for the leader
    detail::RouteCounters* route = nullptr;  // never nullptr after look_up()
    Audience audience = Audience::anonymous;
  };

  void abandon_flight(Lookup& lookup, std::exception_ptr error) const noexcept;
  void join_flight(const Request& request, const CacheOptions& options, Lookup& lookup) const;

  [[nodiscard]] const CacheKeyPolicy& policy_for(const CacheOptions& options) const noexcept;
  [[nodiscard]] Lookup look_up(const Request& request, const CacheOptions& options) const;
  [[nodiscard]] CacheResult store_rendered(const Request& request, const CacheOptions& options,
                                           Lookup& lookup, std::shared_ptr<const Page> page) const;

  std::shared_ptr<Store> store_;
  std::shared_ptr<const CacheKeyPolicy> default_policy_;
  std::unique_ptr<FlightTable> flights_;
  std::unique_ptr<Counters> counters_;
  std::unique_ptr<detail::Metrics> metrics_;
};

}  // namespace viewcache
