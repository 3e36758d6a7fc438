#include "thread_stripe.hpp"

#include <algorithm>
#include <bit>
#include <thread>

namespace viewcache::detail {

std::size_t stripe_count() noexcept {
  static const std::size_t count = [] {
    const std::size_t threads = std::max(1U, std::thread::hardware_concurrency());
    return std::clamp<std::size_t>(std::bit_ceil(2 * threads), 2, 64);
  }();
  return count;
}

std::size_t this_thread_stripe() noexcept {
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t stripe =
      next.fetch_add(1, std::memory_order_relaxed) & (stripe_count() - 1);
  return stripe;
}

StripedCounter::StripedCounter() : cells_(std::make_unique<Cell[]>(stripe_count())) {}

std::uint64_t StripedCounter::load() const noexcept {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < stripe_count(); ++i) {
    sum += cells_[i].value.load(std::memory_order_relaxed);
  }
  return sum;
}

}  // namespace viewcache::detail
