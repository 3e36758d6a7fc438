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
#include <string_view>

namespace viewcache {

// Who is asking for a page, as the key policy sees it.
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

  static constexpr Viewer anonymous() noexcept { return {}; }

  static constexpr Viewer signed_in(std::string_view user_id = {}) noexcept {
    return {Audience::signed_in, user_id};
  }

  friend constexpr bool operator==(const Viewer&, const Viewer&) = default;
};

// A non-owning view of one request. Every string_view must stay valid for the
// duration of the call that receives the Request.
struct Request {
  // The method token as received, such as "GET" or "HEAD". Case-sensitive, as
  // RFC 9110 section 9.1 defines method names.
  std::string_view method = "GET";

  // The path as the server received it: percent-encoded, without the query.
  std::string_view path;

  // The query string without the leading '?'. Empty means no query.
  std::string_view query;

  Viewer viewer;
};

}  // namespace viewcache
