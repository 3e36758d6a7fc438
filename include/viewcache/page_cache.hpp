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
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
  // The cache copies the name on its first use. The leak guard also reports
  // and disables routes by this name.
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

  // Stale-if-error (RFC 5861 section 4): the store keeps each page this long
  // past its TTL, and when a render for its key throws or returns a 5xx
  // status within that time, the stale page is served instead
  // (CacheOutcome::stale). Zero, the default, keeps nothing past the TTL.
  std::chrono::milliseconds stale_if_error{0};

  // Stale-while-revalidate (RFC 5861 section 3): for this long past its TTL,
  // a stale page is served at once while one refresh renders it again in the
  // background, on the cache's executor. For that, cached() copies render,
  // and the copy runs after cached() has returned, so on such routes render
  // must own what it uses (capture by value, not by reference). A render that
  // cannot be copied is called in the foreground instead. Zero, the default,
  // serves nothing stale while refreshing.
  std::chrono::milliseconds stale_while_revalidate{0};

  // Changes to the rules that decide whether a page is stored, such as
  // storing 404 pages for 30 s or taking the TTL from Cache-Control.
  StorageRules storage;

  // Each stored page's TTL is shortened by a random amount up to this
  // (capped at the TTL), so pages rendered together do not all expire, and
  // re-render, in the same second. Zero, the default, keeps TTLs exact.
  std::chrono::milliseconds ttl_jitter{0};

  // Leak guard: the fraction (0 to 1) of hits by signed-in readers on a
  // variant their key shares with other users that are rendered again for
  // the reader and compared with the stored body (slot markers compare as
  // written, so per-reader slots are masked). A difference means the page
  // depends on who reads it but its key does not: the reader gets the fresh
  // page, the leak is counted, and the route stops being served from the
  // cache until it gets another key policy. Zero, the default, audits
  // nothing; content that legitimately changes per render (a timestamp, a
  // nonce) must sit in a slot, or it is reported as a leak.
  double leak_guard_sample = 0.0;
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
  // Not looked up: the leak guard found this route's shared pages depend on
  // the reader, so it renders every request until the route's key changes.
  // Also the outcome of the audit that found the leak.
  bypass_leak,
  // Missed a fresh page, rendered, and the render threw or returned a 5xx
  // status: the stale page kept for options.stale_if_error was served.
  stale,
  // Found a stale page within options.stale_while_revalidate: it was served
  // and one refresh of it was started (or is running) in the background.
  stale_revalidating,
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

  // The body with its slots filled for this reader, when cached() was given
  // a fill function and the page has slots.
  std::optional<std::string> filled_body;

  // The key, when PageCache::Options::expose_key is set; cache_status()
  // then reports it.
  std::string key;

  // True when the store held a stale page for the key and this request
  // rendered a new one: Cache-Status reports fwd=stale instead of fwd=miss.
  bool forwarded_stale = false;

  [[nodiscard]] bool hit() const noexcept { return outcome == CacheOutcome::hit; }

  // Returns the body to send: filled_body when set, else the page's body.
  [[nodiscard]] std::string_view body() const noexcept {
    return filled_body ? std::string_view{*filled_body} : std::string_view{page->body};
  }

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

  std::uint64_t audited = 0;      // hits the leak guard rendered again and compared
  std::uint64_t leaks = 0;        // audits whose fresh page differed from the stored one

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

    // Runs background refreshes (stale-while-revalidate). nullptr selects a
    // built-in executor with one thread and a queue of 256 refreshes; a
    // refresh that finds the queue full is dropped and tried again by a later
    // request. An executor the application provides must run or drop every
    // task before the PageCache is destroyed, because tasks use the cache.
    std::function<void(std::function<void()>)> executor;

    // Adds the key to every Cache-Status value (key="..."), for debugging.
    // Off by default: keys reveal paths and queries, and building the
    // string costs an allocation per request.
    bool expose_key = false;
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
      if (!lookup.audit) {
        return std::move(lookup.result);
      }
      return audit_hit(options, lookup, render_for_audit(lookup, render));
    }
    if (lookup.revalidate) {
      if constexpr (std::is_copy_constructible_v<std::decay_t<F>>) {
        return revalidate(request, options, lookup, std::function<Page()>(render));
      }
      lookup.revalidate = false;
      join_flight(request, options, lookup);
      if (lookup.result.outcome == CacheOutcome::collapsed) {
        return std::move(lookup.result);
      }
    }

    std::shared_ptr<const Page> page;
    try {
      const detail::RenderScope scope(lookup.key.view());
      page = std::make_shared<const Page>(with_slots(std::forward<F>(render)()));
    } catch (...) {
      if (lookup.stale != nullptr) {
        return serve_stale(lookup);
      }
      abandon_flight(lookup, std::current_exception());
      throw;
    }
    return store_rendered(request, options, lookup, std::move(page));
  }

  // cached() with hole punching: after the page is found or rendered, each
  // slot marker in its body is replaced by what fill(slot_name, out) appends
  // to out, and the result's filled_body (and body()) contains the page for this
  // reader. The store keeps the page with its markers, so per-reader content
  // never enters it. Splicing costs about one copy of the body.
  template <typename F, typename Fill>
    requires is_render<F> && std::is_invocable_v<Fill&, std::string_view, std::string&>
  CacheResult cached(const Request& request, const CacheOptions& options, F&& render,
                     Fill&& fill) {
    CacheResult result = cached(request, options, std::forward<F>(render));
    if (!result.page->slots.empty()) {
      std::string body;
      fill_slots(*result.page, fill, body);
      result.filled_body = std::move(body);
    }
    return result;
  }

  // Returns the routes the leak guard has disabled, each with the reason.
  [[nodiscard]] std::vector<std::string> leaking_routes() const;

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

  // Invalidation. Each call removes stored pages, so the next request for
  // them renders afresh. A render that is in progress while any of these
  // calls runs does not keep its page: it is served, but not stored, or
  // removed again (StoreDecision::invalidated), because it may show data from
  // before the change. Thread-safe.

  // Removes the page that request would be served from, with the key of
  // options.key_policy. Returns true when an entry was removed. Locks one
  // store shard.
  bool invalidate(const Request& request, const CacheOptions& options = {});

  // Removes every stored variant of request's path: all audiences, users,
  // roles, vary values and queries. Only the path is read, through
  // options.key_policy (CacheKeyPolicy::append_family), so pass the policy the
  // route stores with. "/post/5" never removes pages of "/post/50". Returns
  // the number removed, zero for a path the policy cannot key.
  //
  // Throws std::logic_error when the key policy returns
  // KeyStatus::unsupported, because its pages were stored without a family.
  // With MemoryStore, O(shards + pages removed); the store is not scanned.
  std::size_t invalidate_variants(const Request& request, const CacheOptions& options = {});

  // Removes every stored page whose Page::tags contain tag. Returns the number
  // removed. With MemoryStore, O(shards + pages removed).
  std::size_t invalidate_tag(std::string_view tag);

  // Removes every stored page.
  void clear();

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
    std::uint64_t invalidations = 0;  // the invalidation count when the miss began
    detail::FlightRole role = detail::FlightRole::solo;
    std::shared_ptr<detail::Flight> flight;  // set for the leader
    bool audit = false;                      // the leak guard samples this hit
    std::shared_ptr<const Page> stale;       // fallback for stale-if-error
    std::chrono::milliseconds stale_ttl{0};  // its (negative) freshness
    bool revalidate = false;                 // serve stale, refresh in the background
    detail::RouteCounters* route = nullptr;  // never nullptr after look_up()
    Audience audience = Audience::anonymous;
  };

  // Renders for a leak-guard audit. An exception is swallowed and the stored
  // page served, because the reader's request already has a good page.
  template <typename F>
  std::optional<Page> render_for_audit(const Lookup& lookup, F& render) const noexcept {
    try {
      const detail::RenderScope scope(lookup.key.view());
      return with_slots(render());
    } catch (...) {
      return std::nullopt;
    }
  }

  [[nodiscard]] static Page with_slots(Page page);
  [[nodiscard]] CacheResult audit_hit(const CacheOptions& options, Lookup& lookup,
                                      std::optional<Page> fresh) const;


  void abandon_flight(Lookup& lookup, std::exception_ptr error) const noexcept;
  [[nodiscard]] CacheResult serve_stale(Lookup& lookup) const;
  [[nodiscard]] CacheResult revalidate(const Request& request, const CacheOptions& options,
                                       Lookup& lookup, std::function<Page()> render);
  void join_flight(const Request& request, const CacheOptions& options, Lookup& lookup) const;

  [[nodiscard]] const CacheKeyPolicy& policy_for(const CacheOptions& options) const noexcept;
  [[nodiscard]] Lookup look_up(const Request& request, const CacheOptions& options) const;
  [[nodiscard]] CacheResult store_rendered(const Request& request, const CacheOptions& options,
                                           Lookup& lookup, std::shared_ptr<const Page> page) const;
  void store_page(const Request& request, const CacheOptions& options, const Lookup& lookup,
                  const std::shared_ptr<const Page>& page, std::chrono::milliseconds ttl,
                  CacheResult& result) const;
  void begin_invalidation() noexcept;

  std::shared_ptr<Store> store_;
  std::shared_ptr<const CacheKeyPolicy> default_policy_;
  // Shared, so a refresh task the executor drops late can still release its
  // key without touching a destroyed cache.
  std::shared_ptr<FlightTable> flights_;
  std::unique_ptr<Counters> counters_;

  class LeakRegistry;
  std::unique_ptr<LeakRegistry> leaks_;

  std::unique_ptr<detail::Metrics> metrics_;
  bool expose_key_ = false;

  // Last, so it is destroyed first: its tasks use every member above.
  std::function<void(std::function<void()>)> executor_;
  std::shared_ptr<void> owned_executor_;  // the built-in one, when in use
};

}  // namespace viewcache
