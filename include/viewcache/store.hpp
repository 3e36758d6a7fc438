#pragma once

// Store: where PageCache keeps pages, by key. MemoryStore is the embedded
// default; other stores (a shared one for several machines) implement the same
// interface.

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "viewcache/page.hpp"

namespace viewcache {

// Options of Store::put(): the names a store indexes a page under besides its
// key, so that invalidation finds the entry without a scan, and how long it
// keeps the page once stale. The views need to live only for the put call,
// because a store copies what it keeps.
struct StorePutOptions {
  // The key's family (CacheKeyPolicy::append_family). Empty for none.
  std::string_view family;

  // The page's invalidation tags, usually Page::tags.
  std::span<const std::string> tags;

  // How long the store keeps the page after its TTL, returned by get() as
  // stale, so a failed render can fall back to it (stale-if-error).
  std::chrono::milliseconds stale_for{0};

  // A short, low-cardinality label (PageCache passes route and audience)
  // under which a store that counts per label adds the entry's bytes and
  // evictions. Empty for none.
  std::string_view label;
};

class Store {
 public:
  // A page found by a lookup, and how long it stays fresh.
  struct Hit {
    std::shared_ptr<const Page> page;  // nullptr on a miss
    // The freshness left; zero or negative (the time since the TTL ran out)
    // for a stale page.
    std::chrono::milliseconds ttl_left{0};
    // True for a page past its TTL that the store still keeps because it was
    // put with PutOptions::stale_for.
    bool stale = false;

    explicit operator bool() const noexcept { return page != nullptr; }
  };

  // Options of put(): see StorePutOptions.
  using PutOptions = StorePutOptions;

  virtual ~Store() = default;

  // Returns the page stored under key if it is fresh, or if it is stale but
  // within the PutOptions::stale_for it was put with (Hit::stale), or an
  // empty Hit. An entry past both is never returned. Thread-safe.
  [[nodiscard]] virtual Hit get(std::string_view key) = 0;

  // Stores page under key for ttl, replacing any entry with that key, and
  // indexes it under options.family and options.tags. A store may decline
  // the page (for example when it is larger than the store's budget) and
  // returns false then. A ttl of zero or less stores nothing and leaves any
  // entry already under key as it is; erase() removes one. Thread-safe.
  //
  // Implementations repeat the default argument, so a call through the
  // derived type and one through Store behave alike.
  virtual bool put(std::string_view key, std::shared_ptr<const Page> page,
                   std::chrono::milliseconds ttl, const PutOptions& options = {}) = 0;

  // Removes the entry under key, if any. Returns true when one was removed.
  virtual bool erase(std::string_view key) = 0;

  // Removes every entry stored with family as PutOptions::family. Returns
  // the number removed. Thread-safe.
  virtual std::size_t erase_family(std::string_view family) = 0;

  // Removes every entry stored with tag among PutOptions::tags. Returns the
  // number removed. Thread-safe.
  virtual std::size_t erase_tag(std::string_view tag) = 0;

  // Removes every entry.
  virtual void clear() = 0;
};

}  // namespace viewcache
