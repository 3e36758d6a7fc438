#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "viewcache/memory_store.hpp"

namespace viewcache {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::shared_ptr<const Page> page_of(std::string body) {
  auto page = std::make_shared<Page>();
  page->body = std::move(body);
  return page;
}

// The bytes one entry with this key and body is charged.
std::size_t charge_of(std::string_view key, const Page& page) {
  return key.size() + page.byte_size() + MemoryStore::entry_overhead;
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
  EXPECT_EQ(store.stats().bytes, charge_of("k", *page_of("new")));
}

TEST_F(MemoryStoreTest, EvictsLeastRecentlyUsed) {
  const auto page = page_of(std::string(100, 'x'));
  const std::size_t charge = charge_of("k1", *page);
  MemoryStore store({.max_bytes = 3 * charge, .shards = 1, .clock = clock_});

  ASSERT_TRUE(store.put("k1", page, seconds{10}));
  ASSERT_TRUE(store.put("k2", page, seconds{10}));
  ASSERT_TRUE(store.put("k3", page, seconds{10}));
  ASSERT_TRUE(store.get("k1"));  // k2 is now the least recently used
  ASSERT_TRUE(store.put("k4", page, seconds{10}));

  EXPECT_TRUE(store.get("k1"));
  EXPECT_FALSE(store.get("k2"));
  EXPECT_TRUE(store.get("k3"));
  EXPECT_TRUE(store.get("k4"));
  EXPECT_EQ(store.stats().evicted_capacity, 1U);
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
