#pragma once

// Clock: the monotonic time source behind TTLs. Stores take it as a parameter
// so tests advance time by hand instead of sleeping, and so wall-clock jumps
// (NTP, daylight saving) never expire or revive entries.

#include <atomic>
#include <chrono>
#include <memory>

namespace viewcache {

class Clock {
 public:
  using duration = std::chrono::steady_clock::duration;
  using time_point = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;

  // Returns the current time. Must never go backwards. Called from any thread.
  [[nodiscard]] virtual time_point now() const noexcept = 0;
};

// std::chrono::steady_clock behind the Clock interface.
class SteadyClock final : public Clock {
 public:
  [[nodiscard]] time_point now() const noexcept override;
};

// The monotonic clock read at the kernel's tick resolution (Linux
// CLOCK_MONOTONIC_COARSE, 1 to 4 ms), on the same time line as SteadyClock.
// Reading it costs a few nanoseconds instead of about twenty, which matters
// on a cache hit; TTLs of seconds do not need finer ticks.
class CoarseSteadyClock final : public Clock {
 public:
  [[nodiscard]] time_point now() const noexcept override;
};

// Returns a shared CoarseSteadyClock; the default clock of every store.
[[nodiscard]] std::shared_ptr<const Clock> steady_clock();

// A clock that moves only when told to: for tests of TTL expiry. Thread-safe,
// so a test may advance it while other threads read it.
class ManualClock final : public Clock {
 public:
  // Starts at an arbitrary fixed point that is not the clock's epoch, so code
  // that treats time_point{} as "unset" cannot pass by accident.
  ManualClock() noexcept;

  [[nodiscard]] time_point now() const noexcept override;

  // Moves the clock forward by step. A negative step is ignored, because a
  // monotonic clock never goes back.
  void advance(duration step) noexcept;

 private:
  std::atomic<duration::rep> ticks_;
};

}  // namespace viewcache
