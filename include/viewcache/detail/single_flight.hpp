#pragma once

// Single-flight machinery behind PageCache::cached(). Not API: the names here
// may change without notice.

#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <string_view>

#include "viewcache/page.hpp"

namespace viewcache::detail {

// One render in progress for one key, which concurrent misses on that key
// wait for instead of rendering again. Defined in the library.
struct Flight;

// The role of one cached() call on a miss.
enum class FlightRole : std::uint8_t {
  // Renders, stores if allowed, and hands the page to the waiters.
  leader,
  // Renders for itself and stores if allowed: no flight was joined.
  solo,
  // Renders for itself and does not store: its wait for a leader timed out,
  // and its page must not overwrite the leader's.
  solo_without_store,
  // Received the leader's page; does not render.
  collapsed,
};

// Marks a key as being rendered by this thread for as long as it lives, so a
// render that calls cached() for its own key gets an error instead of waiting
// for itself forever.
class RenderScope {
 public:
  explicit RenderScope(std::string_view key);
  ~RenderScope();

  RenderScope(const RenderScope&) = delete;
  RenderScope& operator=(const RenderScope&) = delete;

  // Returns true when this thread is inside a render of key.
  [[nodiscard]] static bool active(std::string_view key) noexcept;

 private:
  std::string_view key_;
};

}  // namespace viewcache::detail
