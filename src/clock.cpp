#include "viewcache/clock.hpp"

#include <time.h>

namespace viewcache {

SteadyClock::time_point SteadyClock::now() const noexcept {
  return std::chrono::steady_clock::now();
}

CoarseSteadyClock::time_point CoarseSteadyClock::now() const noexcept {
  timespec now{};
  if (clock_gettime(CLOCK_MONOTONIC_COARSE, &now) != 0) {
    return std::chrono::steady_clock::now();
  }
  return time_point{std::chrono::duration_cast<duration>(std::chrono::seconds{now.tv_sec} +
                                                         std::chrono::nanoseconds{now.tv_nsec})};
}

std::shared_ptr<const Clock> steady_clock() {
  static const auto clock = std::make_shared<const CoarseSteadyClock>();
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
