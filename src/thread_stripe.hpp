#pragma once

// Per-thread stripes: state that every thread writes on the hit path is split
// into stripes, one per group of threads, so two threads on different cores
// do not pull one cache line back and forth on every hit.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace viewcache::detail {

// The size of a cache line on the CPUs this library targets. Stripes are
// aligned to it, so neighbouring stripes never share a line.
inline constexpr std::size_t cache_line_bytes = 64;

// The number of stripes: a power of two, twice the hardware threads rounded
// up, from 2 to 64. Fixed for the life of the process.
[[nodiscard]] std::size_t stripe_count() noexcept;

// Returns the calling thread's stripe in [0, stripe_count()). A thread takes
// the stripe fewest live threads use on its first call and keeps it until it
// exits. So while there are no more live threads than stripes, no two threads
// share one.
[[nodiscard]] std::size_t this_thread_stripe() noexcept;

// A counter that many threads add to and few read: each stripe has its own
// cache line, and a read sums them. A read that races with adds returns a
// value between the counts before and after them.
class StripedCounter {
 public:
  StripedCounter();

  void add(std::uint64_t amount = 1) noexcept {
    cells_[this_thread_stripe()].value.fetch_add(amount, std::memory_order_relaxed);
  }

  [[nodiscard]] std::uint64_t load() const noexcept;

 private:
  struct alignas(cache_line_bytes) Cell {
    std::atomic<std::uint64_t> value{0};
  };

  std::unique_ptr<Cell[]> cells_;
};

}  // namespace viewcache::detail
