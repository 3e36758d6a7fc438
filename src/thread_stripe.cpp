#include "thread_stripe.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <mutex>
#include <thread>

namespace viewcache::detail {
namespace {

constexpr std::size_t max_stripes = 64;

// How many live threads use each stripe. A thread takes the least used
// stripe on its first call and gives it back when it exits, so threads that
// come and go (thread pools, benchmark runs) do not drift onto shared stripes.
class StripeClaims {
 public:
  std::size_t claim() {
    std::lock_guard lock(mutex_);
    const auto least = std::min_element(users_.begin(), users_.begin() + stripe_count());
    ++*least;
    return static_cast<std::size_t>(least - users_.begin());
  }

  void release(std::size_t stripe) {
    std::lock_guard lock(mutex_);
    --users_[stripe];
  }

 private:
  std::mutex mutex_;
  std::array<std::size_t, max_stripes> users_{};
};

// Never destroyed, because threads may exit after static destruction began.
StripeClaims& claims() {
  static auto* const instance = new StripeClaims;
  return *instance;
}

// The calling thread's claim on its stripe, given back when the thread exits.
struct StripeClaim {
  StripeClaim() : stripe(claims().claim()) {}
  ~StripeClaim() { claims().release(stripe); }
  StripeClaim(const StripeClaim&) = delete;
  StripeClaim& operator=(const StripeClaim&) = delete;

  const std::size_t stripe;
};

}  // namespace

std::size_t stripe_count() noexcept {
  static const std::size_t count = [] {
    const std::size_t threads = std::max(1U, std::thread::hardware_concurrency());
    return std::clamp<std::size_t>(std::bit_ceil(2 * threads), 2, max_stripes);
  }();
  return count;
}

std::size_t this_thread_stripe() noexcept {
  thread_local const StripeClaim claim;
  return claim.stripe;
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
