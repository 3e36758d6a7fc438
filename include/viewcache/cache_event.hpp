#pragma once

// CacheEvent: what PageCache reports to the event hook that an application
// passes in PageCache::Options::on_event, so the application decides whether
// and how to log. The library itself never prints.
//
//   viewcache::PageCache cache{store, {.on_event = [](const viewcache::CacheEvent& event) {
//     if (event.kind == viewcache::CacheEventKind::render_error) {
//       log_warning("render of {} failed: {}", event.route, event.message);
//     }
//   }}};
//
// Hits are not reported: they are counted only (metrics.hpp), so the hit path
// never calls the hook.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "viewcache/cacheability.hpp"
#include "viewcache/key_policy.hpp"
#include "viewcache/request.hpp"

namespace viewcache {

enum class CacheEventKind : std::uint8_t {
  // A rendered page was put into the store. Sets key and bytes.
  store,
  // A rendered page was not stored. Sets key, decision and status.
  refusal,
  // The render function threw. Sets key (empty for a bypass) and message.
  render_error,
  // A miss waited for another request's render of key longer than the
  // route's wait_timeout and rendered for itself. Sets key.
  wait_timeout,
  // The request was not looked up: its method is not GET or HEAD (sets
  // method), or the key policy built no key for it (sets key_status).
  bypass,
  // One entry of PageCache::warm() threw, from its render or from cached()
  // itself. Sets message. A render that throws reports render_error first.
  warm_failure,
  // The leak guard found that a shared page depends on its reader; the route
  // is served uncached from now on. Sets key and route.
  leak,
};

// Returns the lowercase name of kind, such as "render_error", for logs.
[[nodiscard]] std::string_view to_string(CacheEventKind kind) noexcept;

// Returns the audience label used in metrics and events: "anon" or "auth".
[[nodiscard]] std::string_view to_label(Audience audience) noexcept;

// One event. Every string_view is valid only during the hook call, so a hook
// that keeps one must copy it.
struct CacheEvent {
  CacheEventKind kind = CacheEventKind::store;

  // The route name from CacheOptions::route, or "default" when it is empty.
  std::string_view route;

  // The audience of the request. The user id is never reported.
  Audience audience = Audience::anonymous;

  // The cache key, which contains a keyed digest in place of a user id when the
  // route varies by user. Empty when no key was built.
  std::string_view key;

  // The request method, for bypass events.
  std::string_view method;

  // Page::byte_size() of the stored page, for store events.
  std::size_t bytes = 0;

  // Why the page was not stored, for refusal events.
  StoreDecision decision = StoreDecision::store;

  // The status of the rendered page, for refusal events.
  int status = 0;

  // Why no key was built, for bypass events. KeyStatus::ok when the method
  // caused the bypass.
  KeyStatus key_status = KeyStatus::ok;

  // The exception's what(), or "unknown exception" when it is not derived
  // from std::exception, for render_error and warm_failure events.
  std::string_view message;
};

}  // namespace viewcache
