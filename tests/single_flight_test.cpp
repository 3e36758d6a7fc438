// Single-flight in PageCache::cached(): concurrent misses on one key wait for
// one render. Waits poll the cache's counters with a deadline; nothing sleeps
// for a fixed time.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <algorithm>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "viewcache/memory_store.hpp"
#include "viewcache/page_cache.hpp"

namespace viewcache {
namespace {

using namespace std::chrono_literals;

// Polls predicate until it returns true or ten seconds pass, and returns its
// last result.
bool eventually(const std::function<bool()>& predicate) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!predicate()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::yield();
  }
  return true;
}

class SingleFlightTest : public ::testing::Test {
 protected:
  // Runs count calls of cached() on /home at once and returns their results,
  // or the exception each one threw.
  struct Outcome {
    std::optional<CacheResult> result;
    std::string error;
    // Keeps the exception alive until every thread has joined. Waiters share
    // one exception object, and its reference count lives in libstdc++, which
    // is not built with ThreadSanitizer. Dropping the last reference after the
    // joins keeps the sanitizer from reporting the count's invisible atomics.
    std::exception_ptr exception;
  };

  std::vector<Outcome> run_concurrently(int count, const CacheOptions& options,
                                        const std::function<Page()>& render) {
    std::vector<Outcome> outcomes(static_cast<std::size_t>(count));
    std::vector<std::thread> threads;
    for (int i = 0; i < count; ++i) {
      threads.emplace_back([&, i] {
        try {
          outcomes[static_cast<std::size_t>(i)].result =
              cache_.cached({.path = "/home"}, options, render);
        } catch (const std::exception& error) {
          outcomes[static_cast<std::size_t>(i)].error = error.what();
          outcomes[static_cast<std::size_t>(i)].exception = std::current_exception();
        }
      });
    }
    for (auto& thread : threads) {
      thread.join();
    }
    return outcomes;
  }

  std::shared_ptr<MemoryStore> store_ = std::make_shared<MemoryStore>();
  PageCache cache_{store_};
  std::atomic<int> renders_{0};
};

TEST_F(SingleFlightTest, SixtyFourMissesRenderOnce) {
  const auto outcomes = run_concurrently(64, {}, [&] {
    ++renders_;
    EXPECT_TRUE(eventually([&] { return cache_.stats().waiting == 63; }))
        << "waiting: " << cache_.stats().waiting;
    return Page{.body = "home"};
  });

  EXPECT_EQ(renders_.load(), 1);
  int collapsed = 0;
  const Page* shared = nullptr;
  for (const Outcome& outcome : outcomes) {
    ASSERT_TRUE(outcome.result.has_value()) << outcome.error;
    collapsed += outcome.result->outcome == CacheOutcome::collapsed ? 1 : 0;
    if (shared == nullptr) shared = outcome.result->page.get();
    EXPECT_EQ(outcome.result->page.get(), shared);
  }
  EXPECT_EQ(collapsed, 63);
  EXPECT_EQ(cache_.stats().collapsed, 63U);
  EXPECT_TRUE(cache_.cached({.path = "/home"}, {}, [] { return Page{}; }).hit());
}

TEST_F(SingleFlightTest, CollapsedCacheStatus) {
  const auto outcomes = run_concurrently(2, {}, [&] {
    EXPECT_TRUE(eventually([&] { return cache_.stats().waiting == 1; }));
    return Page{.body = "home"};
  });
  std::vector<std::string> statuses;
  for (const Outcome& outcome : outcomes) statuses.push_back(outcome.result->cache_status());
  std::sort(statuses.begin(), statuses.end());
  EXPECT_EQ(statuses[0], "viewcache; fwd=miss; collapsed");
  EXPECT_EQ(statuses[1], "viewcache; fwd=miss; stored");
}

TEST_F(SingleFlightTest, LeaderExceptionReachesEveryWaiter) {
  const auto outcomes = run_concurrently(8, {}, [&]() -> Page {
    ++renders_;
    EXPECT_TRUE(eventually([&] { return cache_.stats().waiting == 7; }));
    throw std::runtime_error("database down");
  });

  EXPECT_EQ(renders_.load(), 1);
  for (const Outcome& outcome : outcomes) {
    EXPECT_FALSE(outcome.result.has_value());
    EXPECT_EQ(outcome.error, "database down");
  }
  EXPECT_EQ(store_->stats().entries, 0U);
}

TEST_F(SingleFlightTest, WaitersMayRenderAfterLeaderError) {
  std::atomic<bool> first{true};
  const auto outcomes = run_concurrently(4, {.on_leader_error = OnLeaderError::render}, [&]() -> Page {
    ++renders_;
    if (first.exchange(false)) {
      EXPECT_TRUE(eventually([&] { return cache_.stats().waiting == 3; }));
      throw std::runtime_error("database down");
    }
    return Page{.body = "home"};
  });

  EXPECT_EQ(renders_.load(), 4);
  int failed = 0;
  for (const Outcome& outcome : outcomes) failed += outcome.result.has_value() ? 0 : 1;
  EXPECT_EQ(failed, 1);
}

TEST_F(SingleFlightTest, TimedOutWaiterRendersWithoutStoring) {
  std::atomic<bool> first{true};
  const auto outcomes = run_concurrently(2, {.wait_timeout = 20ms}, [&]() -> Page {
    ++renders_;
    if (first.exchange(false)) {
      // The leader finishes only after the waiter has given up on it.
      EXPECT_TRUE(eventually([&] { return cache_.stats().wait_timeouts == 1; }));
      return Page{.body = "leader"};
    }
    return Page{.body = "waiter"};
  });

  EXPECT_EQ(renders_.load(), 2);
  for (const Outcome& outcome : outcomes) {
    ASSERT_TRUE(outcome.result.has_value());
    if (outcome.result->page->body == "waiter") {
      EXPECT_EQ(outcome.result->decision, StoreDecision::wait_timed_out);
    } else {
      EXPECT_EQ(outcome.result->outcome, CacheOutcome::miss_stored);
    }
  }
  EXPECT_EQ(store_->get("view//home/anon").page->body, "leader");
}

TEST_F(SingleFlightTest, WaitersBeyondLimitRenderAlone) {
  std::atomic<bool> first{true};
  std::atomic<int> solo_renders{0};
  const auto outcomes = run_concurrently(4, {.max_waiters = 2}, [&]() -> Page {
    ++renders_;
    if (first.exchange(false)) {
      EXPECT_TRUE(eventually([&] { return cache_.stats().waiting == 2; }));
      EXPECT_TRUE(eventually([&] { return solo_renders == 1; }));
      return Page{.body = "leader"};
    }
    ++solo_renders;
    return Page{.body = "solo"};
  });

  EXPECT_EQ(renders_.load(), 2);
  EXPECT_EQ(cache_.stats().collapsed, 2U);
}

TEST_F(SingleFlightTest, SessionPageIsNeverShared) {
  std::atomic<bool> first{true};
  const auto outcomes = run_concurrently(4, {}, [&]() -> Page {
    ++renders_;
    if (first.exchange(false)) {
      EXPECT_TRUE(eventually([&] { return cache_.stats().waiting == 3; }));
      return Page{.headers = {{"Set-Cookie", "session=leader"}}, .body = "leader"};
    }
    return Page{.body = "own"};
  });

  EXPECT_EQ(renders_.load(), 4);
  for (const Outcome& outcome : outcomes) {
    ASSERT_TRUE(outcome.result.has_value());
    EXPECT_NE(outcome.result->outcome, CacheOutcome::collapsed);
    if (outcome.result->page->body != "leader") {
      EXPECT_FALSE(outcome.result->page->has_header("Set-Cookie"));
    }
  }
}

TEST_F(SingleFlightTest, FragmentsRenderInsideRender) {
  const CacheResult page = cache_.cached({.path = "/home"}, {}, [&] {
    const CacheResult menu =
        cache_.cached({.path = "/fragment/menu"}, {}, [] { return Page{.body = "menu"}; });
    return Page{.body = "home with " + menu.page->body};
  });
  EXPECT_EQ(page.page->body, "home with menu");
  EXPECT_TRUE(cache_.cached({.path = "/fragment/menu"}, {}, [] { return Page{}; }).hit());
}

TEST_F(SingleFlightTest, RenderOfOwnKeyThrows) {
  try {
    (void)cache_.cached({.path = "/home"}, {}, [&] {
      return cache_.cached({.path = "/home"}, {}, [] { return Page{}; }).page->body.empty()
                 ? Page{}
                 : Page{};
    });
    FAIL() << "expected std::logic_error";
  } catch (const std::logic_error& error) {
    EXPECT_NE(std::string{error.what()}.find("view//home/anon"), std::string::npos) << error.what();
  }
  // The failed flight is over: the next miss leads a new one.
  EXPECT_EQ(cache_.cached({.path = "/home"}, {}, [] { return Page{}; }).outcome,
            CacheOutcome::miss_stored);
}

TEST_F(SingleFlightTest, HeadNeverLeads) {
  const CacheResult head =
      cache_.cached({.method = "HEAD", .path = "/home"}, {}, [] { return Page{}; });
  EXPECT_EQ(head.decision, StoreDecision::refuse_method);
  EXPECT_EQ(cache_.cached({.path = "/home"}, {}, [] { return Page{}; }).outcome,
            CacheOutcome::miss_stored);
}

}  // namespace
}  // namespace viewcache
