#include <gtest/gtest.h>

#include <atomic>
#include <array>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/pages.hpp"
#include "viewcache/memory_store.hpp"

namespace viewcache {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

using test::page_of;

// Returns prefix followed by number zero-padded to eight digits, so that every
// key of one kind has the same length and charge.
std::string fmt_key(std::string_view prefix, int number) {
  std::string digits = std::to_string(number);
  return std::string{prefix} + std::string(8 - std::min<std::size_t>(8, digits.size()), '0') + digits;
}

// The bytes one entry with this key and body is charged.
// A small one-shard store, as the eviction tests use, samples every key into
// its shadow caches, so its charge is the highest a store makes.
std::size_t charge_of(std::string_view key, const Page& page) {
  return MemoryStore({.max_bytes = 64 * 1024, .shards = 1}).charge(key, page);
}

class MemoryStoreTest : public ::testing::Test {
 protected:
  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
};

TEST_F(MemoryStoreTest, MissOnEmptyStore) {
  MemoryStore store({.clock = clock_});
  EXPECT_FALSE(store.get("view//home/anon"));
  EXPECT_EQ(store.stats().misses, 1U);
}

TEST_F(MemoryStoreTest, HitReturnsStoredPageWithoutCopy) {
  MemoryStore store({.clock = clock_});
  const auto page = page_of(std::string(16 * 1024, 'x'));
  ASSERT_TRUE(store.put("k", page, seconds{10}));

  const Store::Hit hit = store.get("k");
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit.page.get(), page.get());
  EXPECT_EQ(store.stats().hits, 1U);
}

TEST_F(MemoryStoreTest, EntryExpiresAtTtl) {
  MemoryStore store({.clock = clock_});
  ASSERT_TRUE(store.put("k", page_of("body"), seconds{10}));

  clock_->advance(milliseconds{9999});
  const Store::Hit before = store.get("k");
  ASSERT_TRUE(before);
  EXPECT_EQ(before.ttl_left, milliseconds{1});

  clock_->advance(milliseconds{1});
  EXPECT_FALSE(store.get("k"));

  const MemoryStore::Stats stats = store.stats();
  EXPECT_EQ(stats.evicted_expired, 1U);
  EXPECT_EQ(stats.entries, 0U);
  EXPECT_EQ(stats.bytes, 0U);
}

TEST_F(MemoryStoreTest, TtlIsPerEntry) {
  MemoryStore store({.clock = clock_});
  ASSERT_TRUE(store.put("short", page_of("a"), seconds{1}));
  ASSERT_TRUE(store.put("long", page_of("b"), seconds{60}));

  clock_->advance(seconds{2});
  EXPECT_FALSE(store.get("short"));
  EXPECT_TRUE(store.get("long"));
}

TEST_F(MemoryStoreTest, ZeroTtlStoresNothing) {
  MemoryStore store({.clock = clock_});
  EXPECT_FALSE(store.put("k", page_of("a"), milliseconds{0}));
  EXPECT_FALSE(store.put("k", page_of("a"), milliseconds{-5}));
  EXPECT_FALSE(store.get("k"));
}

TEST_F(MemoryStoreTest, PutReplacesEntry) {
  MemoryStore store({.clock = clock_});
  ASSERT_TRUE(store.put("k", page_of("old"), seconds{10}));
  ASSERT_TRUE(store.put("k", page_of("new"), seconds{10}));

  EXPECT_EQ(store.get("k").page->body, "new");
  EXPECT_EQ(store.stats().entries, 1U);
  EXPECT_EQ(store.stats().bytes, store.charge("k", *page_of("new")));
}

// Thirty popular pages, each followed by two to four requests for pages never
// seen again. Between two requests for one popular page come about 120
// distinct keys, more than twice the store's fifty entries, so LRU would miss
// every time; the store keeps the popular pages.
TEST_F(MemoryStoreTest, PopularPagesSurviveFlood) {
  const auto page = page_of(std::string(100, 'x'));
  const std::size_t charge = charge_of("popular-00", *page);
  MemoryStore store({.max_bytes = 50 * charge, .shards = 1, .clock = clock_, .hash_seed = 7});

  int popular_requests = 0;
  int popular_hits = 0;
  int unique = 0;
  for (int round = 0; round < 300; ++round) {
    for (int i = 0; i < 30; ++i) {
      const std::string key = fmt_key("popular-", i);
      const bool hit = static_cast<bool>(store.get(key));
      if (!hit) store.put(key, page, seconds{600});
      if (round >= 100) {
        ++popular_requests;
        popular_hits += hit ? 1 : 0;
      }
      for (int j = 0; j < 2 + (i % 3); ++j) {
        const std::string once = fmt_key("once-", 10000000 + unique++);
        (void)store.get(once);
        store.put(once, page, seconds{600});
      }
    }
  }

  EXPECT_GT(popular_hits, popular_requests * 8 / 10)
      << popular_hits << " hits in " << popular_requests << " requests for popular pages";
}

TEST_F(MemoryStoreTest, ExpiredEntriesReclaimedWithoutLookup) {
  MemoryStore store({.shards = 1, .clock = clock_});
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(store.put("old" + std::to_string(i), page_of("x"), seconds{1}));
  }
  clock_->advance(seconds{2});
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(store.put("new" + std::to_string(i), page_of("y"), seconds{60}));
  }

  const MemoryStore::Stats stats = store.stats();
  EXPECT_EQ(stats.evicted_expired, 8U);
  EXPECT_EQ(stats.entries, 2U);
}

TEST_F(MemoryStoreTest, JitterShortensTtlWithinBound) {
  MemoryStore store({.shards = 1, .clock = clock_, .ttl_jitter = seconds{10}});
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(store.put("k" + std::to_string(i), page_of("x"), seconds{60}));
  }
  std::set<std::int64_t> ttls;
  for (int i = 0; i < 200; ++i) {
    const Store::Hit hit = store.get("k" + std::to_string(i));
    ASSERT_TRUE(hit);
    EXPECT_GE(hit.ttl_left, seconds{50});
    EXPECT_LE(hit.ttl_left, seconds{60});
    ttls.insert(hit.ttl_left.count());
  }
  EXPECT_GT(ttls.size(), 50U);
}

// Keys chosen to share their low hash bits under one seed, as an attacker
// with the unseeded hash function would choose them, spread out under another.
TEST(MemoryStoreHash, SeedDefeatsPrecomputedCollisions) {
  MemoryStore known({.hash_seed = 1});
  MemoryStore other({.hash_seed = 2});
  constexpr std::uint64_t mask = 0xFFF;

  std::vector<std::string> colliding;
  for (int i = 0; colliding.size() < 300; ++i) {
    std::string key = "view//page/" + std::to_string(i) + "/anon";
    if ((known.hash(key) & mask) == 0) {
      colliding.push_back(std::move(key));
    }
  }

  std::map<std::uint64_t, int> buckets;
  int largest = 0;
  for (const std::string& key : colliding) {
    largest = std::max(largest, ++buckets[other.hash(key) & mask]);
  }
  EXPECT_LE(largest, 4) << "300 keys share low bits under seed 1; under seed 2 the fullest of "
                        << mask + 1 << " buckets holds " << largest;
}

TEST_F(MemoryStoreTest, RejectsPageLargerThanShardBudget) {
  MemoryStore store({.max_bytes = 4096, .shards = 4, .clock = clock_});
  EXPECT_FALSE(store.put("k", page_of(std::string(2000, 'x')), seconds{10}));
  EXPECT_FALSE(store.get("k"));
  EXPECT_EQ(store.stats().rejected, 1U);
}

TEST_F(MemoryStoreTest, ByteBudgetNeverExceeded) {
  constexpr std::size_t max_bytes = 64 * 1024;
  MemoryStore store({.max_bytes = max_bytes, .shards = 4, .clock = clock_});
  std::mt19937 random(3);
  std::uniform_int_distribution<std::size_t> size(0, 6000);
  std::uniform_int_distribution<int> key(0, 500);

  for (int i = 0; i < 5000; ++i) {
    store.put("key" + std::to_string(key(random)), page_of(std::string(size(random), 'x')),
              seconds{30});
    if (i % 7 == 0) {
      clock_->advance(seconds{1});
    }
    const MemoryStore::Stats stats = store.stats();
    ASSERT_LE(stats.bytes, max_bytes) << "after put " << i;
  }
  EXPECT_GT(store.stats().evicted_capacity, 0U);
}

TEST_F(MemoryStoreTest, EraseAndClear) {
  MemoryStore store({.clock = clock_});
  ASSERT_TRUE(store.put("a", page_of("1"), seconds{10}));
  ASSERT_TRUE(store.put("b", page_of("2"), seconds{10}));

  EXPECT_TRUE(store.erase("a"));
  EXPECT_FALSE(store.erase("a"));
  EXPECT_FALSE(store.get("a"));

  store.clear();
  EXPECT_FALSE(store.get("b"));
  EXPECT_EQ(store.stats().entries, 0U);
  EXPECT_EQ(store.stats().bytes, 0U);
}

TEST(MemoryStoreOptions, InvalidShardCountThrows) {
  for (const std::size_t shards : {std::size_t{0}, std::size_t{3}, std::size_t{8192}}) {
    try {
      MemoryStore store({.shards = shards});
      FAIL() << "expected std::invalid_argument for shards=" << shards;
    } catch (const std::invalid_argument& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find("shards is " + std::to_string(shards)), std::string::npos) << message;
    }
  }
}

TEST(MemoryStoreOptions, BudgetSmallerThanShardsThrows) {
  EXPECT_THROW(MemoryStore({.max_bytes = 8, .shards = 16}), std::invalid_argument);
}

// Several threads put, get and erase on their own keys and compare each result
// with a single-threaded model; a shared hot key is hammered at the same time.
// The budget is large enough that nothing is evicted, so the model is exact.
// Run under ThreadSanitizer by the tsan preset.
TEST(MemoryStoreConcurrency, ThreadsAgreeWithModel) {
  MemoryStore store({.max_bytes = std::size_t{64} << 20, .shards = 8});
  constexpr int thread_count = 4;
  constexpr int operations = 20000;
  std::atomic<int> mismatches{0};

  std::vector<std::thread> threads;
  for (int t = 0; t < thread_count; ++t) {
    threads.emplace_back([&store, &mismatches, t] {
      std::mt19937 random(static_cast<unsigned>(t));
      std::uniform_int_distribution<int> pick(0, 63);
      std::map<std::string, std::string> model;

      for (int i = 0; i < operations; ++i) {
        const std::string key = "t" + std::to_string(t) + "/" + std::to_string(pick(random));
        const int action = pick(random) % 4;
        if (action == 0) {
          const std::string body = key + "#" + std::to_string(i);
          store.put(key, page_of(body), seconds{600});
          model[key] = body;
        } else if (action == 1) {
          store.erase(key);
          model.erase(key);
        } else if (action == 2) {
          store.put("hot", page_of(std::to_string(i)), seconds{600});
          (void)store.get("hot");
        } else {
          const Store::Hit hit = store.get(key);
          const auto expected = model.find(key);
          const bool agrees = expected == model.end()
                                  ? !hit
                                  : (hit && hit.page->body == expected->second);
          if (!agrees) {
            mismatches.fetch_add(1);
          }
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }

  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace viewcache

namespace viewcache {
namespace {

// Per-label counts stay equal to the store's totals through puts, evictions,
// expiry, replacement, invalidation and clear.
TEST(MemoryStoreLabels, CountsMatchTotals) {
  auto clock = std::make_shared<ManualClock>();
  MemoryStore store({.max_bytes = 256 * 1024, .shards = 4, .clock = clock, .hash_seed = 3});
  std::mt19937 random(5);
  std::uniform_int_distribution<int> key(0, 400);
  std::uniform_int_distribution<int> label(0, 2);
  std::uniform_int_distribution<std::size_t> size(100, 3000);
  const std::array<std::string, 3> labels{"home|anon", "home|auth", "course|anon"};

  for (int i = 0; i < 5000; ++i) {
    const std::string name = "k" + std::to_string(key(random));
    auto page = std::make_shared<Page>();
    page->body.assign(size(random), 'x');
    const std::string tag = "t" + std::to_string(i % 7);
    page->tags = {tag};
    store.put(name, page, std::chrono::seconds{5 + i % 20},
              {.family = name, .tags = page->tags, .label = labels[static_cast<std::size_t>(label(random))]});
    if (i % 50 == 0) clock->advance(std::chrono::seconds{3});
    if (i % 333 == 0) store.erase_tag("t3");

    const MemoryStore::Stats totals = store.stats();
    std::size_t entries = 0;
    std::size_t bytes = 0;
    for (const MemoryStore::LabelStats& stats : store.label_stats()) {
      entries += stats.entries;
      bytes += stats.bytes;
    }
    ASSERT_EQ(entries, totals.entries) << "after put " << i;
    ASSERT_EQ(bytes, totals.bytes) << "after put " << i;
  }

  std::uint64_t evicted = 0;
  for (const MemoryStore::LabelStats& stats : store.label_stats()) {
    evicted += stats.evicted_capacity + stats.evicted_expired;
  }
  const MemoryStore::Stats totals = store.stats();
  EXPECT_EQ(evicted, totals.evicted_capacity + totals.evicted_expired);
  EXPECT_GT(totals.evicted_capacity, 0U);

  store.clear();
  for (const MemoryStore::LabelStats& stats : store.label_stats()) {
    EXPECT_EQ(stats.entries, 0U) << stats.label;
    EXPECT_EQ(stats.bytes, 0U) << stats.label;
  }
}

}  // namespace
}  // namespace viewcache
