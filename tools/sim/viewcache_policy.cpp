// The "viewcache" policy: the W-TinyLfu class that MemoryStore runs, driven
// the way a store shard drives it, so the simulator measures the real code.

#include "eviction/w_tinylfu.hpp"
#include "policy.hpp"

namespace viewcache::sim {
namespace {

// MurmurHash3's 64-bit finalizer over the dense key id. The policy's sketch
// needs hashes whose every bit depends on the key, which small consecutive
// ids are not.
std::uint64_t hash_key(std::uint32_t key) noexcept {
  std::uint64_t value = key + 0x9E3779B97F4A7C15ULL;
  value ^= value >> 33U;
  value *= 0xFF51AFD7ED558CCDULL;
  value ^= value >> 33U;
  value *= 0xC4CEB9FE1A85EC53ULL;
  value ^= value >> 33U;
  return value;
}

struct SimEntry : detail::PolicyNode {};

class ViewcachePolicy final : public Policy {
 public:
  ViewcachePolicy(std::uint64_t capacity, std::uint32_t key_count, std::size_t expected_entries)
      : entries_(key_count), resident_(key_count, 0), policy_(capacity, expected_entries) {}

  bool access(std::uint32_t /*position*/, std::uint32_t key, std::uint64_t weight) override {
    SimEntry& entry = entries_[key];
    const bool hit = resident_[key] != 0;
    policy_.record_access(hash_key(key), hit);

    victims_.clear();
    if (hit) {
      policy_.on_hit(entry);
      if (entry.weight != weight) {
        policy_.on_weight_change(entry, weight, victims_);
      }
    } else {
      entry.hash = hash_key(key);
      entry.weight = weight;
      resident_[key] = 1;
      policy_.on_insert(entry, victims_);
    }

    for (detail::PolicyNode* victim : victims_) {
      resident_[static_cast<std::size_t>(static_cast<SimEntry*>(victim) - entries_.data())] = 0;
    }
    return hit;
  }

 private:
  // Declared before policy_, so the policy's lists are destroyed (and unlink
  // their nodes) before the nodes themselves.
  std::vector<SimEntry> entries_;
  std::vector<std::uint8_t> resident_;
  detail::WTinyLfu policy_;
  detail::Victims victims_;
};

}  // namespace

std::unique_ptr<Policy> make_viewcache_policy(std::uint64_t capacity, std::uint32_t key_count,
                                              std::size_t expected_entries) {
  return std::make_unique<ViewcachePolicy>(capacity, key_count, expected_entries);
}

}  // namespace viewcache::sim
