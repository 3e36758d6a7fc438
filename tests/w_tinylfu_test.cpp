#include <gtest/gtest.h>

#include <cmath>
#include <list>
#include <memory>
#include <random>
#include <unordered_map>
#include <vector>

#include "eviction/w_tinylfu.hpp"

namespace viewcache::detail {
namespace {

std::uint64_t hash_of(std::uint64_t key) {
  key ^= key >> 33U;
  key *= 0xFF51AFD7ED558CCDULL;
  key ^= key >> 33U;
  return key;
}

// A minimal cache around the policy, as a store or the simulator drives it.
class Cache {
 public:
  Cache(std::size_t max_weight, std::size_t expected) : policy_(max_weight, expected) {}

  ~Cache() {
    // Nodes must leave the policy's lists before they are destroyed.
    while (policy_.evict_one() != nullptr) {
    }
  }

  bool access(std::uint64_t key, std::size_t weight = 1) {
    const auto found = entries_.find(key);
    const bool hit = found != entries_.end();
    policy_.record_access(hash_of(key), hit);
    if (hit) {
      policy_.on_hit(*found->second);
      return true;
    }

    auto node = std::make_unique<Node>();
    node->key = key;
    node->hash = hash_of(key);
    node->weight = weight;
    Node& inserted = *node;
    entries_.emplace(key, std::move(node));

    Victims victims;
    policy_.on_insert(inserted, victims);
    for (PolicyNode* victim : victims) {
      entries_.erase(static_cast<Node*>(victim)->key);
    }
    return false;
  }

  [[nodiscard]] bool contains(std::uint64_t key) const { return entries_.contains(key); }
  [[nodiscard]] const WTinyLfu& policy() const { return policy_; }
  [[nodiscard]] std::size_t size() const { return entries_.size(); }

  [[nodiscard]] std::size_t weight_of_entries() const {
    std::size_t total = 0;
    for (const auto& [key, node] : entries_) total += node->weight;
    return total;
  }

 private:
  struct Node : PolicyNode {
    std::uint64_t key = 0;
  };

  WTinyLfu policy_;
  std::unordered_map<std::uint64_t, std::unique_ptr<Node>> entries_;
};

TEST(FrequencySketch, CountsAndSaturates) {
  FrequencySketch sketch(1024);
  for (int i = 0; i < 5; ++i) sketch.increment(hash_of(42));
  EXPECT_EQ(sketch.estimate(hash_of(42)), 5U);
  EXPECT_EQ(sketch.estimate(hash_of(43)), 0U);
  for (int i = 0; i < 100; ++i) sketch.increment(hash_of(42));
  EXPECT_EQ(sketch.estimate(hash_of(42)), 15U);
}

TEST(FrequencySketch, AgesCounts) {
  FrequencySketch sketch(16);
  for (int i = 0; i < 8; ++i) sketch.increment(hash_of(1));
  // 10 additions per counter word trigger a halving; feed other keys.
  for (std::uint64_t key = 100; key < 100 + 10 * 16; ++key) sketch.increment(hash_of(key));
  EXPECT_LE(sketch.estimate(hash_of(1)), 4U);
}

TEST(WTinyLfu, NeverExceedsMaxWeight) {
  Cache cache(1000, 100);
  std::mt19937_64 random(9);
  std::uniform_int_distribution<std::uint64_t> key(0, 5000);
  std::uniform_int_distribution<std::size_t> weight(1, 120);
  for (int i = 0; i < 200000; ++i) {
    cache.access(key(random), weight(random));
    ASSERT_LE(cache.policy().weight(), 1000U);
    ASSERT_EQ(cache.policy().weight(), cache.weight_of_entries());
    ASSERT_EQ(cache.policy().entries(), cache.size());
  }
}

TEST(WTinyLfu, RejectsEntryHeavierThanCapacity) {
  Cache cache(100, 10);
  EXPECT_FALSE(cache.access(1, 101));
  EXPECT_FALSE(cache.contains(1));
  EXPECT_EQ(cache.policy().weight(), 0U);
}

// A hot set that fits survives a long scan of keys that are never repeated,
// the case where LRU loses everything.
TEST(WTinyLfu, HotSetSurvivesScan) {
  Cache cache(1000, 1000);
  for (int round = 0; round < 20; ++round) {
    for (std::uint64_t key = 0; key < 500; ++key) cache.access(key);
  }
  for (std::uint64_t key = 1000000; key < 1100000; ++key) cache.access(key);

  int resident = 0;
  for (std::uint64_t key = 0; key < 500; ++key) resident += cache.contains(key) ? 1 : 0;
  EXPECT_GE(resident, 480);
}

// On a Zipf workload flooded with one-time keys, the policy keeps the head
// and beats a plain LRU of the same size by a wide margin.
TEST(WTinyLfu, BeatsLruUnderFlood) {
  constexpr std::size_t capacity = 1000;
  std::mt19937_64 random(4);
  std::vector<double> weights(20000);
  for (std::size_t i = 0; i < weights.size(); ++i) weights[i] = 1.0 / std::pow(double(i + 1), 0.99);
  std::discrete_distribution<std::uint64_t> zipf(weights.begin(), weights.end());
  std::bernoulli_distribution flood(0.3);

  Cache cache(capacity, capacity);
  std::list<std::uint64_t> lru;
  std::unordered_map<std::uint64_t, std::list<std::uint64_t>::iterator> lru_index;
  int policy_hits = 0;
  int lru_hits = 0;
  std::uint64_t unique = 1ULL << 40;
  for (int i = 0; i < 300000; ++i) {
    const std::uint64_t key = flood(random) ? unique++ : zipf(random);
    policy_hits += cache.access(key) ? 1 : 0;

    if (auto found = lru_index.find(key); found != lru_index.end()) {
      ++lru_hits;
      lru.splice(lru.begin(), lru, found->second);
    } else {
      lru.push_front(key);
      lru_index[key] = lru.begin();
      if (lru.size() > capacity) {
        lru_index.erase(lru.back());
        lru.pop_back();
      }
    }
  }
  EXPECT_GT(policy_hits, lru_hits + lru_hits / 5) << "policy " << policy_hits << ", LRU " << lru_hits;
}

// A loop over more keys than fit is served best by a fixed main space and a
// window of one entry, so the window shrinks to its smallest size.
TEST(WTinyLfu, ShrinksWindowOnLoop) {
  constexpr std::size_t capacity = 512;
  Cache cache(capacity, capacity);
  int hits = 0;
  constexpr int rounds = 100;
  for (int round = 0; round < rounds; ++round) {
    for (std::uint64_t key = 0; key < 1000; ++key) hits += cache.access(key) ? 1 : 0;
  }

  EXPECT_EQ(cache.policy().max_window_weight(), 1U);
  // A fixed set of 511 keys hits once per round: about 51% of the lookups.
  EXPECT_GT(hits, rounds * 1000 * 45 / 100);
}

// Every key is looked up twice, 400 lookups apart, and never again. Only a
// window that keeps the last 200 new keys turns the second lookups into hits.
// The main space cannot, because the sketch has seen each candidate once, no
// more often than the entry it would displace.
TEST(WTinyLfu, GrowsWindowForRecency) {
  constexpr std::size_t capacity = 1000;
  Cache cache(capacity, capacity);
  int hits = 0;
  constexpr std::uint64_t keys = 200000;
  for (std::uint64_t key = 0; key < keys; ++key) {
    hits += cache.access(key) ? 1 : 0;
    if (key >= 200) hits += cache.access(key - 200) ? 1 : 0;
  }

  EXPECT_GE(cache.policy().max_window_weight(), capacity * 30 / 100);
  // Nearly every second lookup hits: close to half of all lookups.
  EXPECT_GT(hits, static_cast<int>(keys * 2 * 45 / 100));
}

// A cache smaller than its shadow caches' minimum replays every key through
// them. The weights stay consistent with the entries while the window moves.
TEST(WTinyLfu, KeepsWeightsWhileWindowMoves) {
  Cache cache(300, 30);
  std::mt19937_64 random(11);
  std::uniform_int_distribution<std::uint64_t> hot(0, 40);
  std::uniform_int_distribution<std::uint64_t> cold(1000, 1000000);
  std::uniform_int_distribution<std::size_t> weight(1, 20);
  std::bernoulli_distribution pick_hot(0.5);
  for (int i = 0; i < 100000; ++i) {
    // Alternate between frequency-heavy and scan-heavy phases.
    const bool hot_phase = (i / 5000) % 2 == 0;
    const std::uint64_t key = hot_phase && pick_hot(random) ? hot(random) : cold(random);
    cache.access(key, weight(random));
    ASSERT_LE(cache.policy().weight(), 300U);
    ASSERT_EQ(cache.policy().weight(), cache.weight_of_entries());
    ASSERT_EQ(cache.policy().entries(), cache.size());
  }
}

}  // namespace
}  // namespace viewcache::detail
