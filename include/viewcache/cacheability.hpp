#pragma once

// Cacheability: the rules that decide whether a rendered page may be stored
// under a key that other readers share. A wrong "yes" serves one reader's page
// to another, so every rule errs towards not storing.

#include <cstdint>
#include <string_view>

#include "viewcache/page.hpp"
#include "viewcache/request.hpp"

namespace viewcache {

// The outcome of the storage decision for one rendered page.
enum class StoreDecision : std::uint8_t {
  store,
  // Only GET responses are stored. HEAD may be answered from a GET entry, but
  // a HEAD render has no body, so it is never stored.
  refuse_method,
  // Only status 200 is stored.
  refuse_status,
  // Set-Cookie belongs to the session of the reader it was rendered for.
  refuse_set_cookie,
  // Cache-Control: private or no-store forbids shared caches from storing.
  refuse_cache_control,
  // The route's TTL is zero or negative. Set by PageCache, not by decide_storage().
  refuse_ttl,
  // The store declined the page, for example because it exceeds the store's
  // budget. Set by PageCache, not by decide_storage().
  store_declined,
  // This request waited for another render of its key, timed out and
  // rendered for itself; its page must not overwrite the leader's. Set by
  // PageCache.
  wait_timed_out,
  // An invalidation ran while the page rendered, so the page may show data
  // from before the change it was meant to drop. Set by PageCache, which
  // removes the page again if it was already stored.
  invalidated,
};

// Returns a short lowercase name such as "set-cookie", for logs and for the
// detail parameter of Cache-Status.
[[nodiscard]] std::string_view to_string(StoreDecision decision) noexcept;

// Decides whether page, rendered for request, may be stored.
[[nodiscard]] StoreDecision decide_storage(const Request& request,
                                           const Page& page) noexcept;

// Returns true when the Cache-Control value holds directive as a whole
// directive name (ASCII case-insensitive), with or without an argument:
// "private" matches "private", "Private" and private="Set-Cookie", but not
// "no-private".
[[nodiscard]] bool has_cache_control_directive(std::string_view cache_control,
                                               std::string_view directive) noexcept;

}  // namespace viewcache
