#include "viewcache/clock.hpp"

namespace viewcache {

SteadyClock::time_point SteadyClock::now() const noexcept {
  return std::chrono::steady_clock::now();
}

std::shared_ptr<const Clock> steady_clock() {
  static const auto clock = std::make_shared<const SteadyClock>();
  return clock;
}

// One day past the epoch: far enough that a test subtracting a TTL from now()
// never underflows below the epoch.
ManualClock::ManualClock() noexcept
    : ticks_(std::chrono::duration_cast<duration>(std::chrono::hours{24}).count()) {}

ManualClock::time_point ManualClock::now() const noexcept {
  return time_point{duration{ticks_.load(std::memory_order_acquire)}};
}

void ManualClock::advance(duration step) noexcept {
  if (step.count() <= 0) {
    return;
  }
  ticks_.fetch_add(step.count(), std::memory_order_acq_rel);
}

}  // namespace viewcache
