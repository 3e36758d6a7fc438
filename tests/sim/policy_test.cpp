// The policies on short request sequences whose hits were worked out by
// hand, and replay() on traces where the right result is known.

#include <gtest/gtest.h>

#include <vector>

#include "errors.hpp"
#include "policy.hpp"
#include "replay.hpp"
#include "sim_test_support.hpp"
#include "trace.hpp"

namespace viewcache::sim {
namespace {

using testing::make_trace;

constexpr std::uint32_t a = 0;
constexpr std::uint32_t b = 1;
constexpr std::uint32_t c = 2;
constexpr std::uint32_t d = 3;

// Returns which requests of trace hit in policy.
std::vector<bool> hits_of(Policy& policy, const Trace& trace, bool weighted = false) {
  std::vector<bool> hits;
  for (std::size_t i = 0; i < trace.size(); ++i) {
    const std::uint64_t weight = weighted ? trace.sizes[i] : 1;
    hits.push_back(policy.access(static_cast<std::uint32_t>(i), trace.keys[i], weight));
  }
  return hits;
}

Capacity entries(std::uint64_t value) {
  return Capacity{.value = value, .in_bytes = false, .text = std::to_string(value)};
}

Capacity bytes(std::uint64_t value) {
  return Capacity{.value = value, .in_bytes = true, .text = std::to_string(value) + "B"};
}

TEST(LruPolicy, EvictsLeastRecentlyUsed) {
  // Capacity 2: a b a c b a. c evicts b (a was used more recently), then b
  // evicts a and a evicts c.
  const Trace trace = make_trace({a, b, a, c, b, a});
  const auto lru = make_lru_policy(2, trace.key_count);
  EXPECT_EQ(hits_of(*lru, trace), (std::vector<bool>{false, false, true, false, false, false}));
}

TEST(LruPolicy, WeightedEvictsUntilFits) {
  // Capacity 10 bytes: a(6) b(5) evicts a. c(11) is larger than the cache
  // and is not admitted, so b stays and hits. Then a(6) evicts b.
  const Trace trace = make_trace({a, b, c, b, a, b}, {6, 5, 11, 5, 6, 5});
  const auto lru = make_lru_policy(10, trace.key_count);
  EXPECT_EQ(hits_of(*lru, trace, true),
            (std::vector<bool>{false, false, false, true, false, false}));
}

TEST(ArcPolicy, RepeatedKeySurvivesScan) {
  // Capacity 2: a a b c d a. After its second use a sits in T2, and the
  // one-time keys b, c, d cycle through T1, so a still hits. LRU misses it.
  const Trace trace = make_trace({a, a, b, c, d, a});
  const auto arc = make_arc_policy(2, trace.key_count);
  EXPECT_EQ(hits_of(*arc, trace), (std::vector<bool>{false, true, false, false, false, true}));
  const auto lru = make_lru_policy(2, trace.key_count);
  EXPECT_EQ(hits_of(*lru, trace), (std::vector<bool>{false, true, false, false, false, false}));
}

TEST(ArcPolicy, GhostHitIsMiss) {
  // Capacity 2: a b a c b a. c pushes b from T1 to the ghost list B1, so b
  // is a miss that moves p and pushes a into B2, and a misses too.
  const Trace trace = make_trace({a, b, a, c, b, a});
  const auto arc = make_arc_policy(2, trace.key_count);
  EXPECT_EQ(hits_of(*arc, trace), (std::vector<bool>{false, false, true, false, false, false}));
}

TEST(ArcPolicy, HoldsCapacityDistinctKeys) {
  // A loop over 3 keys in a cache of 3 misses only the first pass.
  const Trace trace = make_trace({a, b, c, a, b, c, a, b, c});
  const auto arc = make_arc_policy(3, trace.key_count);
  const std::vector<bool> hits = hits_of(*arc, trace);
  EXPECT_EQ(std::count(hits.begin(), hits.end(), true), 6);
}

TEST(OptPolicy, BypassesKeyUsedFarthest) {
  // Capacity 2: a b a c b a. c is never used again, so it is not admitted,
  // and b and a both hit afterwards: 3 hits, where LRU gets 1.
  const Trace trace = make_trace({a, b, a, c, b, a});
  const std::vector<std::uint32_t> next_use = compute_next_use(trace);
  const auto opt = make_opt_policy(2, trace, next_use);
  EXPECT_EQ(hits_of(*opt, trace), (std::vector<bool>{false, false, true, false, true, true}));
}

TEST(OptPolicy, EvictsResidentUsedFarthest) {
  // Capacity 2: a b c a c b. At c, a is next used at 3, b at 5, c at 4:
  // b leaves. Then a and c hit, and b misses.
  const Trace trace = make_trace({a, b, c, a, c, b});
  const std::vector<std::uint32_t> next_use = compute_next_use(trace);
  const auto opt = make_opt_policy(2, trace, next_use);
  EXPECT_EQ(hits_of(*opt, trace), (std::vector<bool>{false, false, false, true, true, false}));
}

TEST(OptPolicy, NextUseMarksLastRequest) {
  const Trace trace = make_trace({a, b, a, c, b, a});
  EXPECT_EQ(compute_next_use(trace),
            (std::vector<std::uint32_t>{2, 4, 5, no_next_use, no_next_use, no_next_use}));
}

TEST(OptPolicy, WeightedKeepsSoonerUse) {
  // Capacity 10 bytes: a(6) b(5) a(6). b would push out a, which is used
  // before b's next use (never), so b is not admitted and a hits.
  const Trace trace = make_trace({a, b, a}, {6, 5, 6});
  const std::vector<std::uint32_t> next_use = compute_next_use(trace);
  const auto opt = make_opt_policy(10, trace, next_use);
  EXPECT_EQ(hits_of(*opt, trace, true), (std::vector<bool>{false, false, true}));
}

TEST(OptPolicy, NeverBelowOtherPolicies) {
  const Trace trace = load_trace(Format::zipf, "alpha=0.8,keys=2000,requests=50000,seed=3");
  const std::vector<PolicyKind> policies{PolicyKind::opt, PolicyKind::lru, PolicyKind::arc,
                                         PolicyKind::viewcache};
  const std::vector<Capacity> capacities{entries(50), entries(500)};
  const std::vector<Result> results = replay(trace, policies, capacities);
  ASSERT_EQ(results.size(), 8U);
  for (std::size_t row = 0; row < results.size(); row += policies.size()) {
    for (std::size_t column = 1; column < policies.size(); ++column) {
      EXPECT_GE(results[row].hits, results[row + column].hits)
          << policy_name(results[row + column].policy) << " at " << results[row].capacity.text;
    }
  }
}

TEST(ViewcachePolicy, LargeCacheMissesOnlyFirstUse) {
  const Trace trace = load_trace(Format::zipf, "alpha=0.9,keys=300,requests=20000,seed=5");
  std::vector<bool> seen(trace.key_count, false);
  std::uint64_t first_uses = 0;
  for (const std::uint32_t key : trace.keys) {
    if (!seen[key]) {
      ++first_uses;
      seen[key] = true;
    }
  }
  const std::vector<PolicyKind> policies{PolicyKind::viewcache};
  const std::vector<Capacity> capacities{entries(300)};
  const std::vector<Result> results = replay(trace, policies, capacities);
  EXPECT_EQ(results.front().hits, trace.size() - first_uses);
}

TEST(ViewcachePolicy, ResistsQueryFlood) {
  // 30% of requests are one-time keys. LRU lets them push out popular keys,
  // but W-TinyLFU's admission filter keeps most of them out.
  const Trace trace =
      load_trace(Format::zipf, "alpha=0.99,keys=20000,requests=200000,flood=0.3,seed=1");
  const std::vector<PolicyKind> policies{PolicyKind::viewcache, PolicyKind::lru};
  const std::vector<Capacity> capacities{entries(1000)};
  const std::vector<Result> results = replay(trace, policies, capacities);
  EXPECT_GT(results[0].hit_ratio(), results[1].hit_ratio() + 0.05);
}

TEST(ViewcachePolicy, WeightedBelowOpt) {
  // Sizes of 1 to 100 bytes in a 2,000-byte cache.
  Trace trace = load_trace(Format::zipf, "alpha=0.9,keys=500,requests=20000,seed=9");
  for (const std::uint32_t key : trace.keys) {
    trace.sizes.push_back(1 + key % 100);
  }
  const std::vector<PolicyKind> policies{PolicyKind::viewcache, PolicyKind::lru, PolicyKind::opt};
  const std::vector<Capacity> capacities{bytes(2000)};
  const std::vector<Result> results = replay(trace, policies, capacities);
  for (const Result& result : results) {
    EXPECT_GT(result.hits, 0U) << policy_name(result.policy);
    EXPECT_LT(result.hits, trace.size()) << policy_name(result.policy);
  }
  EXPECT_GE(results[2].hits, results[0].hits);
  EXPECT_GE(results[2].hits, results[1].hits);
}

TEST(Replay, ArcSkipsByteCapacity) {
  const Trace trace = make_trace({a, b, a}, {1, 1, 1});
  const std::vector<PolicyKind> policies{PolicyKind::arc, PolicyKind::lru};
  const std::vector<Capacity> capacities{bytes(10), entries(10)};
  const std::vector<Result> results = replay(trace, policies, capacities);
  ASSERT_EQ(results.size(), 4U);
  EXPECT_FALSE(results[0].unsupported.empty());
  EXPECT_TRUE(results[1].unsupported.empty());
  EXPECT_EQ(results[2].hits, 1U);
}

TEST(Replay, CountsHitBytes) {
  const Trace trace = make_trace({a, b, a, a}, {10, 20, 30, 40});
  const std::vector<PolicyKind> policies{PolicyKind::lru};
  const std::vector<Capacity> capacities{entries(5)};
  const Result result = replay(trace, policies, capacities).front();
  EXPECT_EQ(result.hits, 2U);
  EXPECT_EQ(result.bytes, 100U);
  EXPECT_EQ(result.hit_bytes, 70U);
  EXPECT_DOUBLE_EQ(result.byte_hit_ratio(), 0.7);
}

#if VIEWCACHE_SIM_HAVE_CAFFEINE
TEST(CaffeinePolicy, LargeCacheMissesOnlyFirstUse) {
  const Trace trace = make_trace({a, b, a, c, b, a, d, d});
  const std::vector<PolicyKind> policies{PolicyKind::caffeine};
  const std::vector<Capacity> capacities{entries(100), entries(1)};
  const std::vector<Result> results = replay(trace, policies, capacities);
  ASSERT_EQ(results.size(), 2U);
  EXPECT_EQ(results[0].hits, 4U);
  // With room for one entry only the repeat of d can hit, and Caffeine may
  // still reject d, so at most one hit.
  EXPECT_LE(results[1].hits, 1U);
}

TEST(CaffeinePolicy, WeightedCountsHitBytes) {
  const Trace trace = make_trace({a, b, a, b}, {100, 200, 100, 200});
  const std::vector<PolicyKind> policies{PolicyKind::caffeine};
  const std::vector<Capacity> capacities{bytes(1000)};
  const Result result = replay(trace, policies, capacities).front();
  EXPECT_EQ(result.hits, 2U);
  EXPECT_EQ(result.hit_bytes, 300U);
}
#endif

}  // namespace
}  // namespace viewcache::sim
