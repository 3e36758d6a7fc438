#pragma once

// Request: the view of an HTTP request that a framework adapter fills in before
// it calls PageCache::cached().
//
// The viewer is a closed type, not a value to test for truthiness. A framework
// states "anonymous" or "signed in" explicitly, so an adapter that forgets to
// set it gets the anonymous variant (the page every visitor may see) and never
// a signed-in user's page.
//
//   viewcache::Request request{
//       .method = "GET",
//       .path = "/course/explore",
//       .query = "page=2",
//       .viewer = viewcache::Viewer::signed_in("alice"),
//   };

#include <cstdint>
#include <span>
#include <string_view>

namespace viewcache {

// The kind of reader a page is for, as key policies distinguish them.
enum class Audience : std::uint8_t {
  anonymous,
  signed_in,
};

// The reader of a page: an audience, plus the user id when signed in.
struct Viewer {
  Audience audience = Audience::anonymous;

  // Empty for anonymous viewers. Key policies that vary by user put only a
  // keyed digest of it into keys, never the id itself.
  std::string_view user_id;

  // The named group the signed-in viewer belongs to, such as "staff", for
  // routes that vary by role. Empty when the application has none.
  std::string_view role;

  static constexpr Viewer anonymous() noexcept { return {}; }

  static constexpr Viewer signed_in(std::string_view user_id = {},
                                    std::string_view role = {}) noexcept {
    return {Audience::signed_in, user_id, role};
  }

  friend constexpr bool operator==(const Viewer&, const Viewer&) = default;
};

// The encoding of the path in a Request.
enum class PathForm : std::uint8_t {
  // As the server received it: percent-encoded, so "%2F" and "/" differ.
  received,
  // Already percent-decoded by the framework. The key policy encodes every
  // byte that needs it, "%" included. A decoded path cannot tell "%2F" from
  // "/", so adapters that have the received path should pass that instead.
  decoded,
};

// A value the application resolved for one vary dimension of a request, such
// as {"locale", "en"} from Accept-Language. The resolved value goes into the
// key, not the raw header, so "en-US" and "en-GB" can share the "en" entry.
struct VaryValue {
  std::string_view name;
  std::string_view value;
};

// A non-owning view of one request. Every string_view must stay valid for the
// duration of the call that receives the Request.
struct Request {
  // The method token as received, such as "GET" or "HEAD". Case-sensitive, as
  // RFC 9110 section 9.1 defines method names.
  std::string_view method = "GET";

  // The path without the query, in the form path_form states.
  std::string_view path;

  // The query string without the leading '?'. Empty means no query.
  std::string_view query;

  Viewer viewer;

  PathForm path_form = PathForm::received;

  // True when the request carries an Authorization header. A response to it
  // is stored only if its Cache-Control contains public or s-maxage (RFC 9111 section 3.5).
  bool has_authorization = false;

  // Values for the vary dimensions a route's key policy names. Dimensions the
  // policy does not name are ignored.
  std::span<const VaryValue> vary;
};

}  // namespace viewcache
