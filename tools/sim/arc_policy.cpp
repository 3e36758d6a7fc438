// ARC, the Adaptive Replacement Cache: N. Megiddo, D. S. Modha, "ARC: A
// Self-Tuning, Low Overhead Replacement Cache", USENIX FAST 2003, figure 4.
//
// The cache of c entries is split into T1 (seen once recently) and T2 (seen
// at least twice). Ghost lists B1 and B2 remember the keys last evicted from
// T1 and T2, without their data. A hit in B1 means T1 was too small, so the
// target size p of T1 grows; a hit in B2 shrinks it. Ghost hits are misses.

#include <algorithm>

#include "key_list.hpp"
#include "policy.hpp"

namespace viewcache::sim {
namespace {

class ArcPolicy final : public Policy {
 public:
  ArcPolicy(std::uint64_t capacity, std::uint32_t key_count)
      : capacity_(capacity), links_(key_count), place_(key_count, Place::none) {}

  bool access(std::uint32_t /*position*/, std::uint32_t key, std::uint64_t /*weight*/) override {
    switch (place_[key]) {
      case Place::t1:
      case Place::t2:
        move(key, Place::t2);
        return true;

      case Place::b1: {
        target_t1_ = std::min(target_t1_ + ratio_at_least_one(b2_, b1_),
                              static_cast<double>(capacity_));
        replace(false);
        move(key, Place::t2);
        return false;
      }

      case Place::b2: {
        target_t1_ = std::max(target_t1_ - ratio_at_least_one(b1_, b2_), 0.0);
        replace(true);
        move(key, Place::t2);
        return false;
      }

      case Place::none:
        break;
    }

    // A key in none of the four lists.
    const std::size_t l1 = t1_.size() + b1_.size();
    const std::size_t total = l1 + t2_.size() + b2_.size();
    if (l1 == capacity_) {
      if (t1_.size() < capacity_) {
        forget_back(Place::b1);
        replace(false);
      } else {
        forget_back(Place::t1);
      }
    } else if (total >= capacity_) {
      if (total == 2 * capacity_) {
        forget_back(Place::b2);
      }
      replace(false);
    }
    move(key, Place::t1);
    return false;
  }

 private:
  enum class Place : std::uint8_t { none, t1, t2, b1, b2 };

  // The step by which a ghost hit moves p: |other| / |hit list|, but at
  // least 1. It is a real number, as the paper writes it.
  static double ratio_at_least_one(const KeyList& other, const KeyList& hit_list) noexcept {
    if (hit_list.size() >= other.size()) {
      return 1.0;
    }
    return static_cast<double>(other.size()) / static_cast<double>(hit_list.size());
  }

  KeyList& list(Place place) noexcept {
    switch (place) {
      case Place::t1: return t1_;
      case Place::t2: return t2_;
      case Place::b1: return b1_;
      default: return b2_;
    }
  }

  // Moves key from wherever it is to the front of to.
  void move(std::uint32_t key, Place to) noexcept {
    if (place_[key] != Place::none) {
      list(place_[key]).remove(links_, key);
    }
    list(to).push_front(links_, key);
    place_[key] = to;
  }

  void forget_back(Place place) noexcept {
    const std::uint32_t key = list(place).pop_back(links_);
    place_[key] = Place::none;
  }

  // REPLACE in the paper: evicts the LRU entry of T1 into B1 if T1 is over
  // its target (or at it, when the request is a B2 ghost hit), else the LRU
  // entry of T2 into B2. The fallback to the other list only matters while
  // the cache is not yet full, where the paper's invariants leave one empty.
  void replace(bool ghost_hit_in_b2) noexcept {
    const auto t1_size = static_cast<double>(t1_.size());
    const bool from_t1 = !t1_.empty() && ((ghost_hit_in_b2 && t1_size == target_t1_) ||
                                          t1_size > target_t1_);
    if (from_t1 || t2_.empty()) {
      if (!t1_.empty()) {
        move(t1_.back(), Place::b1);
      }
    } else {
      move(t2_.back(), Place::b2);
    }
  }

  std::uint64_t capacity_;
  double target_t1_ = 0.0;  // p in the paper
  KeyLinks links_;
  std::vector<Place> place_;
  KeyList t1_;
  KeyList t2_;
  KeyList b1_;
  KeyList b2_;
};

}  // namespace

std::unique_ptr<Policy> make_arc_policy(std::uint64_t capacity, std::uint32_t key_count) {
  return std::make_unique<ArcPolicy>(capacity, key_count);
}

}  // namespace viewcache::sim
