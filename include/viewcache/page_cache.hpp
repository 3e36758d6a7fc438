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

#include <chrono>
#include <concepts>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "viewcache/cacheability.hpp"
#include "viewcache/key_policy.hpp"
#include "viewcache/page.hpp"
#include "viewcache/request.hpp"
#include "viewcache/store.hpp"

namespace viewcache {

// Per-route caching options.
struct CacheOptions {
  // How long a stored page stays fresh. Zero or less stores nothing.
  std::chrono::milliseconds ttl = std::chrono::seconds{60};

  // The key policy for this route; nullptr selects the cache's default.
  std::shared_ptr<const CacheKeyPolicy> key_policy;
};

// What cached() did for one request.
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
  // ttl=87" or "viewcache; fwd=miss; stored".
  [[nodiscard]] std::string cache_status() const;
};

class PageCache {
 public:
  // A callable that renders a page: Page render().
  template <typename F>
  static constexpr bool is_render = std::is_invocable_r_v<Page, F&>;

  // Throws std::invalid_argument when store is nullptr. A nullptr
  // default_policy selects AuthAwareKeyPolicy with its default options.
  explicit PageCache(std::shared_ptr<Store> store,
                     std::shared_ptr<const CacheKeyPolicy> default_policy = nullptr);

  // Serves request from the store, or renders, decides cacheability and stores.
  //
  // - GET and HEAD are looked up under the same key. Other methods bypass the
  //   store: render is called and nothing is stored.
  // - On a miss render is called once, in this thread. Only a GET page that
  //   passes decide_storage() is stored, for options.ttl.
  // - If render throws, nothing is stored and the exception propagates.
  //
  // Concurrent misses on one key each call render.
  // TODO: coalesce concurrent misses (single-flight) so a stampede renders once.
  //
  // Thread-safe. The returned page stays valid however long the caller keeps
  // it, even after the entry is evicted.
  template <typename F>
    requires is_render<F>
  CacheResult cached(const Request& request, const CacheOptions& options, F&& render) {
    Lookup lookup = look_up(request, options);
    if (lookup.result.hit()) {
      return std::move(lookup.result);
    }

    auto page = std::make_shared<const Page>(std::forward<F>(render)());
    return store_rendered(request, options, lookup, std::move(page));
  }

  // Removes the page that request would be served from. Returns true when an
  // entry was removed.
  bool invalidate(const Request& request, const CacheOptions& options = {});

  [[nodiscard]] Store& store() const noexcept { return *store_; }

 private:
  struct Lookup {
    CacheResult result;
    KeyBuffer key;  // empty when the request bypasses the store
  };

  [[nodiscard]] const CacheKeyPolicy& policy_for(const CacheOptions& options) const noexcept;
  [[nodiscard]] Lookup look_up(const Request& request, const CacheOptions& options) const;
  [[nodiscard]] CacheResult store_rendered(const Request& request, const CacheOptions& options,
                                           const Lookup& lookup,
                                           std::shared_ptr<const Page> page) const;

  std::shared_ptr<Store> store_;
  std::shared_ptr<const CacheKeyPolicy> default_policy_;
};

}  // namespace viewcache
