#include "key_list.hpp"
#include "policy.hpp"

namespace viewcache::sim {
namespace {

class LruPolicy final : public Policy {
 public:
  LruPolicy(std::uint64_t capacity, std::uint32_t key_count)
      : capacity_(capacity), links_(key_count), weight_(key_count, 0), resident_(key_count, 0) {}

  bool access(std::uint32_t /*position*/, std::uint32_t key, std::uint64_t weight) override {
    if (resident_[key] != 0) {
      recency_.remove(links_, key);
      recency_.push_front(links_, key);

      // A key may come back with another size (a page that changed); the
      // entry takes the new size, and may push others out.
      used_ = used_ - weight_[key] + weight;
      weight_[key] = weight;
      shrink_to_capacity();
      return true;
    }

    if (weight > capacity_) {
      return false;
    }
    resident_[key] = 1;
    weight_[key] = weight;
    used_ += weight;
    recency_.push_front(links_, key);
    shrink_to_capacity();
    return false;
  }

 private:
  void shrink_to_capacity() noexcept {
    while (used_ > capacity_) {
      const std::uint32_t victim = recency_.pop_back(links_);
      resident_[victim] = 0;
      used_ -= weight_[victim];
    }
  }

  std::uint64_t capacity_;
  std::uint64_t used_ = 0;
  KeyLinks links_;
  KeyList recency_;  // front: most recently used
  std::vector<std::uint64_t> weight_;
  std::vector<std::uint8_t> resident_;
};

}  // namespace

std::unique_ptr<Policy> make_lru_policy(std::uint64_t capacity, std::uint32_t key_count) {
  return std::make_unique<LruPolicy>(capacity, key_count);
}

}  // namespace viewcache::sim
