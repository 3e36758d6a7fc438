// MemoryStore's front tables (src/front_cache.hpp): a thread's repeated hits
// skip the shard, and still no thread is ever served a page that an erase,
// replacement, invalidation, eviction or expiry has removed.

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
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

// The hits a stripe buffers before it replays them (HitBatch::capacity).
constexpr std::uint64_t replay_batch = 64;

using test::page_of;

// One long-lived thread that runs the functions it is given, one at a time,
// so its front table stays warm between the steps of a test.
class Worker {
 public:
  Worker() : thread_([this] { loop(); }) {}
  ~Worker() {
    run({});
    thread_.join();
  }

  // Runs task on the worker and waits for it. An empty task stops the worker.
  void run(std::function<void()> task) {
    std::unique_lock lock(mutex_);
    task_ = std::move(task);
    pending_ = true;
    changed_.notify_all();
    changed_.wait(lock, [this] { return !pending_; });
  }

 private:
  void loop() {
    for (;;) {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [this] { return pending_; });
      const bool stop = !task_;
      if (task_) {
        task_();
      }
      pending_ = false;
      changed_.notify_all();
      if (stop) {
        return;
      }
    }
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::function<void()> task_;
  bool pending_ = false;
  std::thread thread_;
};

// The body the worker is served for key, or "miss".
std::string served(Worker& worker, MemoryStore& store, const std::string& key) {
  std::string body;
  worker.run([&] {
    const Store::Hit hit = store.get(key);
    body = hit ? hit.page->body : "miss";
  });
  return body;
}

// Gets key on the worker until its front table contains it. The first hit
// comes from the shard and fills the slot, and the next ones come from the slot.
void warm(Worker& worker, MemoryStore& store, const std::string& key) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_NE(served(worker, store, key), "miss") << key;
  }
}

class FrontCacheTest : public ::testing::Test {
 protected:
  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  MemoryStore store_{{.clock = clock_}};
  Worker worker_;
};

TEST_F(FrontCacheTest, RepeatedHitsAreCountedOnce) {
  const auto page = page_of("body");
  ASSERT_TRUE(store_.put("k", page, seconds{10}));
  for (int i = 0; i < 5; ++i) {
    const Store::Hit hit = store_.get("k");
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit.page.get(), page.get()) << "a front hit must share the stored page, not copy it";
  }
  EXPECT_EQ(store_.stats().hits, 5U);
  EXPECT_EQ(store_.stats().misses, 0U);
}

TEST_F(FrontCacheTest, TtlLeftShrinksOnFrontHits) {
  ASSERT_TRUE(store_.put("k", page_of("body"), seconds{10}));
  ASSERT_TRUE(store_.get("k"));
  clock_->advance(seconds{4});
  EXPECT_EQ(store_.get("k").ttl_left, milliseconds{6000});
  clock_->advance(seconds{5});
  EXPECT_EQ(store_.get("k").ttl_left, milliseconds{1000});
}

TEST_F(FrontCacheTest, ExpiredPageIsNotServed) {
  ASSERT_TRUE(store_.put("k", page_of("body"), seconds{10}));
  warm(worker_, store_, "k");
  clock_->advance(seconds{10});
  EXPECT_EQ(served(worker_, store_, "k"), "miss");
}

TEST_F(FrontCacheTest, ReplacementIsSeenByOtherThreads) {
  ASSERT_TRUE(store_.put("k", page_of("old"), seconds{10}));
  warm(worker_, store_, "k");
  ASSERT_TRUE(store_.put("k", page_of("new"), seconds{10}));
  EXPECT_EQ(served(worker_, store_, "k"), "new");
}

TEST_F(FrontCacheTest, EraseIsSeenByOtherThreads) {
  ASSERT_TRUE(store_.put("k", page_of("body"), seconds{10}));
  warm(worker_, store_, "k");
  ASSERT_TRUE(store_.erase("k"));
  EXPECT_EQ(served(worker_, store_, "k"), "miss");
}

TEST_F(FrontCacheTest, InvalidationIsSeenByOtherThreads) {
  const std::vector<std::string> tags{"course:7"};
  ASSERT_TRUE(store_.put("by-family", page_of("a"), seconds{10}, {.family = "courses"}));
  ASSERT_TRUE(store_.put("by-tag", page_of("b"), seconds{10}, {.tags = tags}));
  warm(worker_, store_, "by-family");
  warm(worker_, store_, "by-tag");

  EXPECT_EQ(store_.erase_family("courses"), 1U);
  EXPECT_EQ(store_.erase_tag("course:7"), 1U);
  EXPECT_EQ(served(worker_, store_, "by-family"), "miss");
  EXPECT_EQ(served(worker_, store_, "by-tag"), "miss");
}

TEST_F(FrontCacheTest, ClearIsSeenByOtherThreads) {
  ASSERT_TRUE(store_.put("k", page_of("body"), seconds{10}));
  warm(worker_, store_, "k");
  store_.clear();
  EXPECT_EQ(served(worker_, store_, "k"), "miss");
}

// Every key is read until the reader's front table contains it, while the
// store is pushed far over its budget. A key the front table still served
// after its entry was evicted would make more keys hit than the store has
// entries.
TEST_F(FrontCacheTest, EvictedPagesAreNotServed) {
  MemoryStore store({.max_bytes = 64 * 1024, .shards = 1, .clock = clock_, .hash_seed = 3});
  const auto page = page_of(std::string(1000, 'x'));
  std::vector<std::string> keys;
  for (int i = 0; i < 2000; ++i) {
    keys.push_back("page/" + std::to_string(i));
    store.put(keys.back(), page, seconds{600});
    for (int j = 0; j < 3; ++j) {
      (void)store.get(keys.back());
    }
  }

  std::size_t hitting = 0;
  for (const std::string& key : keys) {
    hitting += store.get(key) ? 1U : 0U;
  }
  EXPECT_LE(hitting, store.stats().entries);
  EXPECT_GT(store.stats().evicted_capacity, 1000U);
}

// With the clock moving on between buffers, every front-table hit reaches the
// eviction policy; with the clock standing still, only the floor's sample does.
TEST_F(FrontCacheTest, FrontHitsAreReplayedToPolicy) {
  ASSERT_TRUE(store_.put("k", page_of("body"), seconds{3600}));
  ASSERT_TRUE(store_.get("k"));  // from the shard; fills the front slot

  constexpr std::uint64_t buffers = 20;
  for (std::uint64_t i = 0; i < buffers * replay_batch; ++i) {
    ASSERT_TRUE(store_.get("k"));
    if (i % replay_batch == replay_batch - 1) {
      clock_->advance(milliseconds{5});
    }
  }
  const MemoryStore::Stats moving = store_.stats();
  EXPECT_EQ(moving.front_hits, buffers * replay_batch);
  EXPECT_EQ(moving.replayed_hits, moving.front_hits);

  constexpr std::uint64_t flood = 100 * replay_batch;
  for (std::uint64_t i = 0; i < flood; ++i) {
    ASSERT_TRUE(store_.get("k"));
  }
  const MemoryStore::Stats frozen = store_.stats();
  EXPECT_EQ(frozen.front_hits, moving.front_hits + flood);
  EXPECT_LE(frozen.replayed_hits, moving.replayed_hits + replay_batch)
      << "a stripe replayed more than one buffer while the clock stood still";
}

TEST_F(FrontCacheTest, OffServesFromShards) {
  MemoryStore store({.clock = clock_, .front_slots = 0});
  ASSERT_TRUE(store.put("k", page_of("body"), seconds{10}));
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(store.get("k"));
  }
  EXPECT_EQ(store.stats().hits, 3U);
}

TEST(FrontCacheOptions, InvalidSlotCountThrows) {
  for (const std::size_t slots : {std::size_t{3}, std::size_t{1000}, std::size_t{1} << 21}) {
    try {
      MemoryStore store({.front_slots = slots});
      FAIL() << "expected std::invalid_argument for front_slots=" << slots;
    } catch (const std::invalid_argument& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find("front_slots is " + std::to_string(slots)), std::string::npos)
          << message;
    }
  }
}

// A writer replaces hot pages with ever newer versions and announces each
// version once put() has returned. Readers that saw the announcement must
// be served that version or a newer one, never an older one from their front
// table, and never another key's page. Run under ThreadSanitizer by the tsan
// preset.
TEST(FrontCacheConcurrency, ReadersNeverGetOlderVersions) {
  MemoryStore store({.max_bytes = std::size_t{16} << 20, .shards = 4});
  constexpr int key_count = 8;
  constexpr int versions = 3000;
  std::array<std::atomic<int>, key_count> announced{};
  std::atomic<bool> done{false};
  std::atomic<int> violations{0};

  const auto key_of = [](int i) { return "hot/" + std::to_string(i); };
  const auto body_of = [&](int i, int version) { return key_of(i) + "#" + std::to_string(version); };
  for (int i = 0; i < key_count; ++i) {
    store.put(key_of(i), page_of(body_of(i, 0)), seconds{600});
  }

  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      while (!done.load()) {
        for (int i = 0; i < key_count; ++i) {
          const int floor = announced[static_cast<std::size_t>(i)].load();
          const Store::Hit hit = store.get(key_of(i));
          if (!hit) {
            violations.fetch_add(1);
            continue;
          }
          const std::string& body = hit.page->body;
          const std::string prefix = key_of(i) + "#";
          if (body.compare(0, prefix.size(), prefix) != 0 ||
              std::stoi(body.substr(prefix.size())) < floor) {
            violations.fetch_add(1);
          }
        }
      }
    });
  }

  for (int version = 1; version <= versions; ++version) {
    const int i = version % key_count;
    store.put(key_of(i), page_of(body_of(i, version)), seconds{600});
    announced[static_cast<std::size_t>(i)].store(version);
  }
  done.store(true);
  for (auto& reader : readers) {
    reader.join();
  }
  EXPECT_EQ(violations.load(), 0);
}

}  // namespace
}  // namespace viewcache
