#pragma once

// Cacheability: the rules that decide whether a rendered page may be stored
// under a key that other readers share. A wrong "yes" serves one reader's page
// to another, so every rule errs towards not storing.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "viewcache/page.hpp"
#include "viewcache/request.hpp"

namespace viewcache {

// A status other than 200 that a route stores, and for how long.
struct StatusTtl {
  int status = 0;
  std::chrono::milliseconds ttl{0};
};

// Per-route changes to the storage rules. The defaults refuse everything that
// HTTP (RFC 9111) or the safety of a shared key would refuse.
struct StorageRules {
  // Statuses other than 200 to store, each with its own TTL, such as
  // {404, 30 s} or {301, 1 h}.
  std::vector<StatusTtl> extra_statuses;

  // Request headers that the route's key covers, through vary dimensions
  // the application resolves (case-insensitive). A response whose Vary field
  // names any other header is not stored, because its key would serve it to
  // requests it was not made for. "Vary: *" is stored only when this list
  // contains "*", a claim that the key covers everything the page depends on.
  std::vector<std::string> covered_vary_headers;

  // Methods besides GET whose responses are stored, such as "POST" for an
  // API that sends read-only queries in the URL. The key policy never reads a
  // request body, so list a method only when its body cannot change the page.
  // Such requests are also looked up.
  std::vector<std::string> extra_methods;

  // Stores pages marked Cache-Control: no-store, against RFC 9111, for an
  // application that marks pages no-store only for browsers and is sure its
  // keys are right. Off by default.
  bool allow_no_store = false;

  // Stores pages whose Cache-Control contains no-cache. Off by default because
  // no-cache asks for revalidation before every reuse, which a page cache
  // cannot do.
  bool allow_no_cache = false;

  // Stores a copy without its Set-Cookie fields instead of refusing the page.
  // The reader it was rendered for still gets the original.
  bool strip_set_cookie = false;

  // Stores pages marked Cache-Control: private. Only for routes whose key
  // varies by user, where each entry is that user's own, as in a private
  // cache. On a shared key it would serve one user's page to others.
  bool allow_private = false;

  // Stores responses to requests with Authorization even without public or
  // s-maxage. The same caution as allow_private applies.
  bool allow_authorization = false;

  // Takes the TTL from the response's Cache-Control, s-maxage before max-age
  // (RFC 9111 section 5.2.2), instead of the route's TTL when one is present,
  // and lets the response's stale-while-revalidate and stale-if-error
  // directives (RFC 5861) widen the route's stale windows.
  bool ttl_from_response = false;

  // Bodies larger than this are not stored. 1 MiB keeps a few outsized pages
  // from evicting many ordinary ones.
  std::size_t max_body_bytes = std::size_t{1} << 20;
};

// The outcome of the storage decision for one rendered page.
enum class StoreDecision : std::uint8_t {
  store,
  // Only GET responses are stored. A HEAD request may be served from a GET entry, but
  // a HEAD render has no body, so it is never stored.
  refuse_method,
  // Only status 200 is stored, and the statuses in extra_statuses.
  refuse_status,
  // Set-Cookie belongs to the session of the reader it was rendered for.
  refuse_set_cookie,
  // Cache-Control: private, no-store or no-cache forbids storing it here.
  refuse_cache_control,
  // Vary names a header the key does not cover, or is "*".
  refuse_vary,
  // The request carried Authorization and the response did not say public
  // or s-maxage (RFC 9111 section 3.5).
  refuse_authorization,
  // The body is larger than max_body_bytes.
  refuse_size,
  // The TTL is zero or negative. Set by PageCache, not by decide_storage().
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

// The number of StoreDecision values, for per-reason counters. It names the
// last value, so a value added after it must be named here instead.
inline constexpr std::size_t store_decision_count =
    static_cast<std::size_t>(StoreDecision::invalidated) + 1;

// Returns a short lowercase name such as "set-cookie", for logs and for the
// detail parameter of Cache-Status.
[[nodiscard]] std::string_view to_string(StoreDecision decision) noexcept;

// Decides whether page, rendered for request, may be stored under the
// route's rules.
[[nodiscard]] StoreDecision decide_storage(const Request& request, const Page& page,
                                           const StorageRules& rules = {}) noexcept;

// Returns the TTL to store page with: the response's s-maxage or max-age when
// rules.ttl_from_response is set and one is present, else the extra_statuses
// TTL for a status other than 200, else route_ttl.
[[nodiscard]] std::chrono::milliseconds storage_ttl(const Page& page, const StorageRules& rules,
                                                    std::chrono::milliseconds route_ttl) noexcept;

// Returns the integer argument of a Cache-Control directive, such as 60 for
// "max-age" in "public, max-age=60", or std::nullopt when the directive is
// absent or its argument is not a non-negative integer.
[[nodiscard]] std::optional<std::int64_t> cache_control_seconds(std::string_view cache_control,
                                                                std::string_view directive) noexcept;

// Returns true when the Cache-Control value contains directive as a whole
// directive name (ASCII case-insensitive), with or without an argument:
// "private" matches "private", "Private" and private="Set-Cookie", but not
// "no-private".
[[nodiscard]] bool has_cache_control_directive(std::string_view cache_control,
                                               std::string_view directive) noexcept;

}  // namespace viewcache
