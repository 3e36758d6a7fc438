#pragma once

// CacheKeyPolicy: turns a request into the key its page is stored under.
//
// The key is the security boundary of a page cache. A cache keyed by URL alone
// stores the page rendered for an anonymous visitor (with its "Log in" button)
// and serves it to a signed-in user, or one user's personalised page to
// another. A key policy must therefore put into the key every part of the
// request that can change the rendered page, and it must be injective: two
// requests that differ in a keyed part never share a key.
//
// AuthAwareKeyPolicy (auth_aware_key_policy.hpp) is the default:
//
//   GET /home, anonymous                  -> view//home/anon
//   GET /course/explore?page=2, signed in -> view//course/explore/auth?page=2

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "viewcache/key_buffer.hpp"
#include "viewcache/request.hpp"

namespace viewcache {

// The reason a policy built no key for a request, or ok. A request without a key is served
// by rendering it, and its page is never stored.
enum class KeyStatus : std::uint8_t {
  ok,
  // The path contains a byte sequence that cannot occur in a path received from
  // the network, such as a raw '?' or '#', or a '%' not followed by two hex
  // digits. Keying it could make it share a key with a different request.
  invalid_path,
  // The same for the query: a raw '#' or a malformed percent escape.
  invalid_query,
  // The policy varies by user, the viewer is signed in, and the user id is empty.
  missing_user_id,
  // The policy varies by role, the viewer is signed in, and the role is empty.
  missing_role,
  // The policy names a vary dimension that the request has no value for.
  missing_vary_value,
  // The policy does not implement the operation, such as append_family().
  unsupported,
};

// Returns a short lowercase name for status, such as "invalid-path", for logs
// and for the detail parameter of Cache-Status.
[[nodiscard]] std::string_view to_string(KeyStatus status) noexcept;

class CacheKeyPolicy {
 public:
  virtual ~CacheKeyPolicy() = default;

  // Appends the key for request to out and returns KeyStatus::ok, or returns
  // another status and leaves out in an unspecified state.
  //
  // Must be injective over the requests it accepts, deterministic across
  // processes and builds, and safe to call from many threads at once.
  [[nodiscard]] virtual KeyStatus append_key(const Request& request, KeyBuffer& out) const = 0;

  // Returns true when signed-in readers each get a variant of their own, so
  // no key is shared between two users. The leak guard audits only routes
  // whose policy returns false.
  [[nodiscard]] virtual bool varies_by_user() const noexcept { return false; }

  // Appends the family of request to out: a name shared by the keys of every
  // variant of the request's path (every audience, user, role, vary value and
  // query) and by no key of another path. Stores index entries by family, so
  // PageCache::invalidate_variants() drops them all without a scan. Returns
  // KeyStatus::ok, or another status and leaves out in an unspecified state.
  //
  // The default returns KeyStatus::unsupported: a policy without families
  // stores its pages under no family. Same thread-safety as append_key().
  [[nodiscard]] virtual KeyStatus append_family(const Request& request, KeyBuffer& out) const;

  // Returns the key for request, or std::nullopt when append_key() returns
  // another status than KeyStatus::ok. Allocates; for tests and tools.
  [[nodiscard]] std::optional<std::string> key(const Request& request) const;
};

}  // namespace viewcache
