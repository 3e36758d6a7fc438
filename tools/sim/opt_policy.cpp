// Belady's optimal replacement (MIN) with bypass: the upper bound of the hit
// ratio for a cache that may decline to store a request. It looks into the
// future through next_use, so it is only possible in a simulator.
//
// For entry capacities it is exact: on a miss with a full cache, the entry
// whose next use is farthest leaves, and when that is the requested key
// itself, the request is not admitted.
//
// For byte capacities it is an approximation, because the exact offline
// optimum with sizes is NP-hard. Entries leave in order of farthest next use
// until the request fits, and the request is not admitted when it would push
// out an entry that is used again before it.

#include <algorithm>
#include <vector>

#include "policy.hpp"

namespace viewcache::sim {
namespace {

class OptPolicy final : public Policy {
 public:
  OptPolicy(std::uint64_t capacity, const Trace& trace, const std::vector<std::uint32_t>& next_use)
      : capacity_(capacity),
        keys_(trace.keys),
        next_use_(next_use),
        weight_(trace.key_count, 0),
        resident_(trace.key_count, 0) {}

  bool access(std::uint32_t position, std::uint32_t key, std::uint64_t weight) override {
    const std::uint64_t next = next_use_value(position);

    if (resident_[key] != 0) {
      push(next);
      used_ = used_ - weight_[key] + weight;
      weight_[key] = weight;
      while (used_ > capacity_) {
        evict(pop());
      }
      compact(position);
      return true;
    }

    if (weight > capacity_) {
      return false;
    }

    // Take entries out, farthest next use first, until the request fits;
    // put them back if one of them is needed sooner than the request.
    victims_.clear();
    std::uint64_t freed = 0;
    while (used_ - freed + weight > capacity_) {
      if (heap_.empty() || heap_.front() < next) {
        break;
      }
      const std::uint64_t farthest = pop();
      victims_.push_back(farthest);
      freed += weight_[key_of(farthest)];
    }
    if (used_ - freed + weight > capacity_) {
      for (const std::uint64_t victim : victims_) {
        push(victim);
      }
      return false;
    }

    for (const std::uint64_t victim : victims_) {
      evict(victim);
    }
    resident_[key] = 1;
    weight_[key] = weight;
    used_ += weight;
    ++resident_count_;
    push(next);
    compact(position);
    return false;
  }

 private:
  // Heap values are positions in the trace. A key used again has the
  // position of that next use. A key never used again has trace size +
  // its current position, which is later than every real position and still
  // unique, so each value names one key (key_of).
  [[nodiscard]] std::uint64_t next_use_value(std::uint32_t position) const noexcept {
    const std::uint32_t next = next_use_[position];
    return next == no_next_use ? keys_.size() + position : next;
  }

  [[nodiscard]] std::uint32_t key_of(std::uint64_t value) const noexcept {
    return keys_[value < keys_.size() ? value : value - keys_.size()];
  }

  void push(std::uint64_t value) {
    heap_.push_back(value);
    std::push_heap(heap_.begin(), heap_.end());
  }

  std::uint64_t pop() noexcept {
    std::pop_heap(heap_.begin(), heap_.end());
    const std::uint64_t value = heap_.back();
    heap_.pop_back();
    return value;
  }

  void evict(std::uint64_t value) noexcept {
    const std::uint32_t victim = key_of(value);
    resident_[victim] = 0;
    used_ -= weight_[victim];
    --resident_count_;
  }

  // A hit leaves the key's previous heap value behind. That value is the
  // position of this hit, so it is never above the current position, while
  // every live value is above it: the heap's maximum is therefore always
  // live. Stale values are dropped once they outnumber the live ones.
  void compact(std::uint32_t position) {
    if (heap_.size() <= 2 * resident_count_ + 1024) {
      return;
    }
    std::erase_if(heap_, [position](std::uint64_t value) { return value <= position; });
    std::make_heap(heap_.begin(), heap_.end());
  }

  std::uint64_t capacity_;
  std::uint64_t used_ = 0;
  std::size_t resident_count_ = 0;
  const std::vector<std::uint32_t>& keys_;
  const std::vector<std::uint32_t>& next_use_;
  std::vector<std::uint64_t> weight_;
  std::vector<std::uint8_t> resident_;
  std::vector<std::uint64_t> heap_;  // max-heap of next-use values, see next_use_value
  std::vector<std::uint64_t> victims_;
};

}  // namespace

std::vector<std::uint32_t> compute_next_use(const Trace& trace) {
  std::vector<std::uint32_t> next_use(trace.size());
  std::vector<std::uint32_t> seen_at(trace.key_count, no_next_use);
  for (std::size_t i = trace.size(); i-- > 0;) {
    const std::uint32_t key = trace.keys[i];
    next_use[i] = seen_at[key];
    seen_at[key] = static_cast<std::uint32_t>(i);
  }
  return next_use;
}

std::unique_ptr<Policy> make_opt_policy(std::uint64_t capacity, const Trace& trace,
                                        const std::vector<std::uint32_t>& next_use) {
  return std::make_unique<OptPolicy>(capacity, trace, next_use);
}

}  // namespace viewcache::sim
