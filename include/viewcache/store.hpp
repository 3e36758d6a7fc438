#pragma once

// Store: where PageCache keeps pages, by key. MemoryStore is the embedded
// default; other stores (a shared one for several machines) implement the same
// interface.

#include <chrono>
#include <memory>
#include <string_view>

#include "viewcache/page.hpp"

namespace viewcache {

class Store {
 public:
  // A page found by a lookup, and how long it stays fresh.
  struct Hit {
    std::shared_ptr<const Page> page;  // nullptr on a miss
    std::chrono::milliseconds ttl_left{0};

    explicit operator bool() const noexcept { return page != nullptr; }
  };

  virtual ~Store() = default;

  // Returns the page stored under key if it has not expired, or an empty Hit.
  // An expired entry is never returned. Thread-safe.
  [[nodiscard]] virtual Hit get(std::string_view key) = 0;

  // Stores page under key for ttl, replacing any entry with that key. A store
  // may decline the page (for example when it is larger than the store's
  // budget) and returns false then. A ttl of zero or less stores nothing.
  // Thread-safe.
  virtual bool put(std::string_view key, std::shared_ptr<const Page> page,
                   std::chrono::milliseconds ttl) = 0;

  // Removes the entry under key, if any. Returns true when one was removed.
  virtual bool erase(std::string_view key) = 0;

  // Removes every entry.
  virtual void clear() = 0;
};

}  // namespace viewcache
