#pragma once

// AuthAwareKeyPolicy: the default key policy. It builds
//
//   view/<path>/<variant>[?<query>]
//
// where <variant> names the audience, "anon" for anonymous viewers and "auth"
// for signed-in ones, so the two never share a page:
//
//   GET /home, anonymous                  -> view//home/anon
//   GET /home, signed in                  -> view//home/auth
//   GET /course/explore?page=2, signed in -> view//course/explore/auth?page=2
//
// A route can split its pages more finely: per role, per user (a keyed digest
// of the user id, never the id itself), and per vary dimension that the
// application resolves, such as locale or tenant. docs/key-policy.md gives the
// grammar and an example of every rule.
//
// Path and query are written in the canonical form of RFC 3986 section 6.2.2,
// with query parameters sorted by name, so equivalent requests share a key.
// The grammar is uniquely decodable, so requests that differ in a keyed part
// never do. Keys longer than max_key_bytes become a readable prefix plus a
// SHA-256 digest of the whole key.
//
// Building a typical key makes no heap allocation.
//
// The family of a key (append_family) is the key up to and including the '/'
// before the variant, "view/<path>/", so it names every variant of one path:
//
//   GET /post/5?page=2, any viewer -> family view//post/5/
//   GET /post/50, any viewer       -> family view//post/50/

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "viewcache/key_policy.hpp"

namespace viewcache {

// The granularity of a route's variants for signed-in readers. Anonymous
// readers always share one variant per vary value.
enum class VariantScope : std::uint8_t {
  // "auth": one variant for every signed-in reader.
  audience,
  // "role-<role>": one variant per role (Viewer::role).
  role,
  // "user-<digest>": one variant per user. For pages that name their reader.
  user,
};

enum class TrailingSlash : std::uint8_t {
  // "/a/" and "/a" are different resources (RFC 3986), with different keys.
  keep,
  // Trailing slashes are removed, except from "/": "/a/" shares "/a"'s key.
  strip,
};

enum class PathCase : std::uint8_t {
  // Paths are case-sensitive (RFC 3986): "/A" and "/a" have different keys.
  sensitive,
  // ASCII letters are lowercased, for servers that ignore case in paths.
  fold_lower,
};

enum class QueryMode : std::uint8_t {
  // Parameters sorted by name; repeated names keep their order.
  sorted,
  // The query in its canonical form, in the order received.
  raw,
};

class AuthAwareKeyPolicy final : public CacheKeyPolicy {
 public:
  struct PathOptions {
    TrailingSlash trailing_slash = TrailingSlash::keep;
    PathCase letter_case = PathCase::sensitive;

    // Resolves "." and ".." segments as RFC 3986 section 5.2.4 does. Off by
    // default because most servers route the received path unchanged.
    bool remove_dot_segments = false;
  };

  struct QueryOptions {
    QueryMode mode = QueryMode::sorted;

    // Glob patterns of parameter names to leave out of the key, such as
    // "utm_*". '*' matches any run of bytes, '?' one byte, "[a-z]" one byte of
    // a set, and '\' escapes the next character. Patterns match the canonical
    // (percent-encoded) name. Requires QueryMode::sorted.
    std::vector<std::string> ignore;

    // When set, only parameters whose name matches one of these patterns are
    // kept, so random parameters cannot flood the store with variants.
    // Requires QueryMode::sorted.
    std::optional<std::vector<std::string>> allow;

    // Treats '+' as an encoded space (HTML form encoding), so "q=a+b" and
    // "q=a%20b" share a key. Off by default because RFC 3986 gives '+' no
    // special meaning and an application may read it literally.
    bool plus_is_space = false;
  };

  struct Options {
    VariantScope vary_by = VariantScope::audience;

    // The HMAC-SHA-256 key for user digests, at least 16 bytes. Required when
    // vary_by is VariantScope::user. Every process that shares a store must
    // use the same secret to find each other's per-user entries.
    std::string user_secret;

    // Names of vary dimensions ([a-z0-9_-]+) whose resolved values
    // (Request::vary) go into the key. Order does not matter.
    std::vector<std::string> vary;

    PathOptions path;
    QueryOptions query;

    // Keys longer than this become a prefix plus '#' and the 64 hex digits of
    // their SHA-256 digest, exactly max_key_bytes long. The default fits
    // memcached's 250-byte key limit. At least min_key_bytes.
    std::size_t max_key_bytes = 250;
  };

  // The smallest max_key_bytes: "view/" plus '#' plus a 64-digit digest.
  static constexpr std::size_t min_key_bytes = 70;

  // Throws std::invalid_argument, naming the option and the fix, when an
  // option is invalid: a user_secret shorter than 16 bytes with
  // VariantScope::user, max_key_bytes below min_key_bytes, an invalid or empty
  // glob, an invalid or repeated vary name, or ignore/allow with QueryMode::raw.
  AuthAwareKeyPolicy();
  explicit AuthAwareKeyPolicy(Options options);
  ~AuthAwareKeyPolicy() override;

  AuthAwareKeyPolicy(const AuthAwareKeyPolicy&) = delete;
  AuthAwareKeyPolicy& operator=(const AuthAwareKeyPolicy&) = delete;
  AuthAwareKeyPolicy(AuthAwareKeyPolicy&&) noexcept;
  AuthAwareKeyPolicy& operator=(AuthAwareKeyPolicy&&) noexcept;

  [[nodiscard]] KeyStatus append_key(const Request& request, KeyBuffer& out) const override;

  [[nodiscard]] bool varies_by_user() const noexcept override {
    return options_.vary_by == VariantScope::user;
  }

  // Appends "view/<canonical path>/", shortened as keys are when longer than
  // max_key_bytes. Fails only as append_key() does for the path
  // (KeyStatus::invalid_path); viewer, vary values and query are not read.
  [[nodiscard]] KeyStatus append_family(const Request& request, KeyBuffer& out) const override;

  [[nodiscard]] const Options& options() const noexcept { return options_; }

 private:
  struct UserDigest;

  // Appends "view/<canonical path>/", the family before any shortening.
  [[nodiscard]] KeyStatus append_path(const Request& request, KeyBuffer& out) const;
  [[nodiscard]] KeyStatus append_variant(const Request& request, KeyBuffer& out) const;
  [[nodiscard]] KeyStatus append_query(const Request& request, KeyBuffer& out) const;

  Options options_;
  std::unique_ptr<const UserDigest> user_digest_;  // set when vary_by is user
};

}  // namespace viewcache
