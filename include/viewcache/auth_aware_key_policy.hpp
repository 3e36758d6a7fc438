#pragma once

// AuthAwareKeyPolicy: the default key policy. It builds
//
//   view/<path>/<variant>[?<query>]
//
// where <variant> is "anon" for anonymous viewers and "auth" for signed-in
// ones, so the two audiences never share a page:
//
//   GET /home, anonymous                  -> view//home/anon
//   GET /home, signed in                  -> view//home/auth
//   GET /course/explore?page=2, signed in -> view//course/explore/auth?page=2
//
// A route whose page names its reader can vary by user instead. Signed-in
// viewers then get "user-" and a keyed digest (HMAC-SHA-256, truncated to 128
// bits) of their id, so keys in logs or a shared store reveal no user ids.
//
// Injectivity: path and query are written in a canonical percent-encoded form
// (docs/design.md, "Key format"), so the key contains no raw '?' before the
// query and no raw space or control byte. The variant is the last segment
// before the first '?', and the path is everything before it, so a path that
// ends in "/anon" or contains "auth" cannot imitate another request's key.

#include <array>
#include <cstdint>
#include <string>

#include "viewcache/key_policy.hpp"

namespace viewcache {

// How finely a route's pages are split between readers.
enum class VariantScope : std::uint8_t {
  // One variant per audience: "anon" and "auth". For pages that look the same
  // to every signed-in user.
  audience,
  // One variant per signed-in user, and one for all anonymous viewers. For
  // pages that show the reader's name, cart or progress.
  user,
};

class AuthAwareKeyPolicy final : public CacheKeyPolicy {
 public:
  struct Options {
    VariantScope vary_by = VariantScope::audience;

    // The HMAC key for user digests. Required (non-empty) when vary_by is
    // VariantScope::user. Every process that shares a store must use the same
    // secret, or they will not find each other's per-user entries.
    std::string user_secret;
  };

  // Throws std::invalid_argument when vary_by is VariantScope::user and
  // user_secret is empty.
  AuthAwareKeyPolicy();
  explicit AuthAwareKeyPolicy(Options options);

  [[nodiscard]] KeyStatus append_key(const Request& request,
                                     std::string& out) const override;

 private:
  [[nodiscard]] KeyStatus append_variant(const Viewer& viewer,
                                         std::string& out) const;

  Options options_;
};

}  // namespace viewcache
