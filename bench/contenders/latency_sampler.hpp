#pragma once

// LatencySampler: per-call latency percentiles from inside a Google Benchmark
// loop, which itself reports only the mean time per iteration.
//
// The loop calls tick() after every call. Every batch_calls ticks the sampler
// reads std::chrono::steady_clock and records the batch's duration in a ring
// of the latest max_samples batches. report() divides each duration by
// batch_calls, so each sample is one batch's mean time per call, and sets the
// 50th and 99th percentiles of those samples as the counters p50_ns and p99_ns.
//
// Reading the clock costs tens of nanoseconds (through the vDSO when the
// kernel's clock source is the TSC), as much as one in-process hit. Batches of
// 64 spread that cost below 1 ns per call, so in-process contenders use them.
// Contenders that cross a socket take microseconds per call and time every call.
//
// NOTE: a batch mean dilutes one slow call among 63 fast ones, so for batched
// contenders p99_ns understates the tail of single calls. The median is
// unaffected when calls are alike, which hits of one page size are.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace viewcache::bench {

class LatencySampler {
 public:
  // Batch size for calls that stay in the process.
  static constexpr std::size_t in_process_batch = 64;
  // Batch size for calls that cross a socket.
  static constexpr std::size_t per_call = 1;

  static constexpr std::size_t max_samples = std::size_t{1} << 16;

  explicit LatencySampler(std::size_t batch_calls)
      : batch_calls_(batch_calls), batch_start_(std::chrono::steady_clock::now()) {
    samples_.reserve(max_samples);
  }

  // Counts one call. Call it once per loop iteration.
  void tick() noexcept {
    if (++calls_in_batch_ < batch_calls_) {
      return;
    }
    const auto now = std::chrono::steady_clock::now();
    record(std::chrono::duration_cast<std::chrono::nanoseconds>(now - batch_start_).count());
    batch_start_ = now;
    calls_in_batch_ = 0;
  }

  // Sets p50_ns, p99_ns and latency_samples on a single-threaded run. A
  // multi-threaded run gets none, because Google Benchmark sums counters
  // over threads, and a sum of percentiles means nothing.
  void report(benchmark::State& state) const {
    if (state.threads() != 1 || samples_.empty()) {
      return;
    }
    std::vector<std::uint32_t> sorted = samples_;
    const double batch = static_cast<double>(batch_calls_);
    state.counters["p50_ns"] = static_cast<double>(percentile(sorted, 0.50)) / batch;
    state.counters["p99_ns"] = static_cast<double>(percentile(sorted, 0.99)) / batch;
    state.counters["latency_samples"] = static_cast<double>(sorted.size());
  }

 private:
  void record(std::int64_t nanoseconds) noexcept {
    const auto clamped = static_cast<std::uint32_t>(
        std::clamp<std::int64_t>(nanoseconds, 0, std::numeric_limits<std::uint32_t>::max()));
    if (samples_.size() < max_samples) {
      samples_.push_back(clamped);
    } else {
      samples_[next_overwrite_] = clamped;
      next_overwrite_ = (next_overwrite_ + 1) % max_samples;
    }
  }

  // The nearest-rank percentile q (0 < q < 1). Reorders values.
  static std::uint32_t percentile(std::vector<std::uint32_t>& values, double q) {
    const auto rank = static_cast<std::size_t>(q * static_cast<double>(values.size() - 1));
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(rank),
                     values.end());
    return values[rank];
  }

  std::size_t batch_calls_;
  std::size_t calls_in_batch_ = 0;
  std::chrono::steady_clock::time_point batch_start_;
  std::vector<std::uint32_t> samples_;
  std::size_t next_overwrite_ = 0;
};

}  // namespace viewcache::bench
