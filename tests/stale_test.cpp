// Stale-if-error (RFC 5861 section 4): a page kept past its TTL is served in
// place of a render that throws or returns a server error. Time moves by a manual clock.

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "viewcache/memory_store.hpp"
#include "viewcache/metrics.hpp"
#include "viewcache/page_cache.hpp"

namespace viewcache {
namespace {

using std::chrono::seconds;

class StaleIfErrorTest : public ::testing::Test {
 protected:
  CacheResult serve(const CacheOptions& options, int status, bool fail = false) {
    return cache_.cached({.path = "/home"}, options, [&]() -> Page {
      if (fail) {
        throw std::runtime_error("database down");
      }
      return Page{.status = status, .body = "render " + std::to_string(++renders_)};
    });
  }

  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  std::shared_ptr<MemoryStore> store_ =
      std::make_shared<MemoryStore>(MemoryStore::Options{.clock = clock_});
  PageCache cache_{store_};
  CacheOptions options_{.ttl = seconds{10}, .stale_if_error = seconds{60}};
  int renders_ = 0;
};

TEST_F(StaleIfErrorTest, StalePageAnswersRenderError) {
  ASSERT_EQ(serve(options_, 200).outcome, CacheOutcome::miss_stored);
  clock_->advance(seconds{15});

  const CacheResult result = serve(options_, 200, true);
  EXPECT_EQ(result.outcome, CacheOutcome::stale);
  EXPECT_EQ(result.page->body, "render 1");
  EXPECT_EQ(result.cache_status(), "viewcache; hit; ttl=-5; detail=stale-if-error");
}

TEST_F(StaleIfErrorTest, StalePageAnswersServerError) {
  serve(options_, 200);
  clock_->advance(seconds{15});

  const CacheResult result = serve(options_, 503);
  EXPECT_EQ(result.outcome, CacheOutcome::stale);
  EXPECT_EQ(result.page->body, "render 1");
  EXPECT_EQ(renders_, 2);
}

TEST_F(StaleIfErrorTest, GoodRenderReplacesStalePage) {
  serve(options_, 200);
  clock_->advance(seconds{15});

  const CacheResult result = serve(options_, 200);
  EXPECT_EQ(result.outcome, CacheOutcome::miss_stored);
  EXPECT_EQ(result.page->body, "render 2");
  EXPECT_TRUE(serve(options_, 200).hit());
}

TEST_F(StaleIfErrorTest, ErrorAfterGracePropagates) {
  serve(options_, 200);
  clock_->advance(seconds{71});
  EXPECT_THROW(serve(options_, 200, true), std::runtime_error);
  EXPECT_EQ(serve(options_, 500).outcome, CacheOutcome::miss_not_stored);
}

TEST_F(StaleIfErrorTest, RouteWithoutGraceIgnoresStalePage) {
  serve(options_, 200);
  clock_->advance(seconds{15});
  const CacheOptions strict{.ttl = seconds{10}};
  EXPECT_THROW(serve(strict, 200, true), std::runtime_error);
}

TEST_F(StaleIfErrorTest, RenderOverStalePageReportsFwdStale) {
  serve(options_, 200);
  clock_->advance(seconds{15});
  EXPECT_EQ(serve(options_, 200).cache_status(), "viewcache; fwd=stale; stored");
}

// At the instant of expiry the page is stale by zero milliseconds; a route
// without stale-while-revalidate must still render in the foreground.
TEST_F(StaleIfErrorTest, ZeroAgeIsNotRevalidated) {
  serve(options_, 200);
  clock_->advance(seconds{10});
  const CacheResult result = serve(options_, 200);
  EXPECT_EQ(result.outcome, CacheOutcome::miss_stored);
  EXPECT_EQ(result.page->body, "render 2");
}

TEST_F(StaleIfErrorTest, HugeMaxAgeIsCapped) {
  const CacheOptions from_response{.ttl = seconds{10}, .storage = {.ttl_from_response = true}};
  const auto render = [] {
    return Page{.headers = {{"Cache-Control", "max-age=99999999999999999999"}}, .body = "x"};
  };
  EXPECT_EQ(cache_.cached({.path = "/forever"}, from_response, render).outcome,
            CacheOutcome::miss_stored);
  clock_->advance(std::chrono::hours{24 * 365});
  EXPECT_TRUE(cache_.cached({.path = "/forever"}, from_response, render).hit());
}

// RFC 5861's directives in the response's own Cache-Control, read when the
// route takes its TTL from the response.
TEST_F(StaleIfErrorTest, ResponseDirectiveGrantsStaleIfError) {
  const CacheOptions from_response{.storage = {.ttl_from_response = true}};
  const auto render = [] {
    return Page{.headers = {{"Cache-Control", "max-age=10, stale-if-error=60"}}, .body = "v1"};
  };
  ASSERT_EQ(cache_.cached({.path = "/r"}, from_response, render).outcome,
            CacheOutcome::miss_stored);
  clock_->advance(seconds{15});

  const CacheResult result = cache_.cached({.path = "/r"}, from_response, []() -> Page {
    throw std::runtime_error("database down");
  });
  EXPECT_EQ(result.outcome, CacheOutcome::stale);
  EXPECT_EQ(result.page->body, "v1");

  const CacheOptions route_ttl{.ttl = seconds{10}};
  EXPECT_THROW(cache_.cached({.path = "/r"}, route_ttl,
                             []() -> Page { throw std::runtime_error("down"); }),
               std::runtime_error)
      << "without ttl_from_response the directive is not read";
}

TEST_F(StaleIfErrorTest, StaleEntryIsNotAHit) {
  serve(options_, 200);
  clock_->advance(seconds{10});
  const Store::Hit hit = store_->get("view//home/anon");
  ASSERT_TRUE(hit);
  EXPECT_TRUE(hit.stale);
  EXPECT_EQ(hit.ttl_left, seconds{0});

  clock_->advance(seconds{60});
  EXPECT_FALSE(store_->get("view//home/anon"));
}

TEST_F(StaleIfErrorTest, StaleServedIsCounted) {
  serve({.route = "home", .ttl = seconds{10}, .stale_if_error = seconds{60}}, 200);
  clock_->advance(seconds{15});
  serve({.route = "home", .ttl = seconds{10}, .stale_if_error = seconds{60}}, 200, true);

  const MetricsSnapshot snapshot = metrics_snapshot(cache_);
  ASSERT_EQ(snapshot.routes.size(), 1U);
  EXPECT_EQ(snapshot.routes[0].of(Audience::anonymous).stale_served, 1U);
  EXPECT_EQ(snapshot.routes[0].of(Audience::anonymous).hits, 0U);
}

}  // namespace
}  // namespace viewcache

namespace viewcache {
namespace {

using std::chrono::seconds;

// Stale-while-revalidate with an executor the test runs by hand, so the
// refresh runs exactly when the test calls run_queued().
class StaleWhileRevalidateTest : public ::testing::Test {
 protected:
  CacheResult serve(std::string body) {
    // Captures by value, as routes with stale_while_revalidate must.
    return cache_.cached({.path = "/home"}, options_, [body, this] {
      ++renders_;
      return Page{.body = body};
    });
  }

  void run_queued() {
    std::vector<std::function<void()>> tasks;
    tasks.swap(queued_);
    for (auto& task : tasks) {
      task();
    }
  }

  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  std::shared_ptr<MemoryStore> store_ =
      std::make_shared<MemoryStore>(MemoryStore::Options{.clock = clock_});
  std::atomic<int> renders_{0};
  PageCache cache_{store_, PageCache::Options{.executor = [this](std::function<void()> task) {
                     queued_.push_back(std::move(task));
                   }}};
  CacheOptions options_{.ttl = seconds{10}, .stale_while_revalidate = seconds{30}};
  // After the cache, so tasks still queued at the end are destroyed first,
  // as an executor must do before its cache goes.
  std::vector<std::function<void()>> queued_;
};

TEST_F(StaleWhileRevalidateTest, ServesStaleWhileOneRefreshRuns) {
  ASSERT_EQ(serve("v1").outcome, CacheOutcome::miss_stored);
  clock_->advance(seconds{12});

  for (int i = 0; i < 3; ++i) {
    const CacheResult stale = serve("v2");
    EXPECT_EQ(stale.outcome, CacheOutcome::stale_revalidating);
    EXPECT_EQ(stale.page->body, "v1");
    EXPECT_EQ(stale.cache_status(), "viewcache; hit; ttl=-2; detail=stale-while-revalidate");
  }
  EXPECT_EQ(renders_.load(), 1) << "nothing renders in the foreground";
  EXPECT_EQ(queued_.size(), 1U) << "one refresh, however many stale hits";

  run_queued();
  EXPECT_EQ(renders_.load(), 2);
  const CacheResult fresh = serve("v3");
  EXPECT_TRUE(fresh.hit());
  EXPECT_EQ(fresh.page->body, "v2");
}

TEST_F(StaleWhileRevalidateTest, FailedRefreshKeepsStalePage) {
  serve("v1");
  clock_->advance(seconds{12});
  (void)cache_.cached({.path = "/home"}, options_, []() -> Page {
    throw std::runtime_error("database down");
  });
  run_queued();

  const CacheResult again = serve("v2");
  EXPECT_EQ(again.outcome, CacheOutcome::stale_revalidating);
  EXPECT_EQ(again.page->body, "v1");
  EXPECT_EQ(queued_.size(), 1U) << "a later request tries the refresh again";
}

TEST_F(StaleWhileRevalidateTest, DroppedRefreshIsTriedAgain) {
  serve("v1");
  clock_->advance(seconds{12});
  serve("v2");
  ASSERT_EQ(queued_.size(), 1U);
  queued_.clear();  // the executor drops the refresh without running it

  serve("v2");
  EXPECT_EQ(queued_.size(), 1U) << "the key was released for another refresh";
  run_queued();
  EXPECT_TRUE(serve("v3").hit());
}

TEST_F(StaleWhileRevalidateTest, HeadDoesNotStartRefresh) {
  serve("v1");
  clock_->advance(seconds{12});
  const CacheResult head = cache_.cached({.method = "HEAD", .path = "/home"}, options_,
                                         [] { return Page{}; });
  EXPECT_EQ(head.outcome, CacheOutcome::stale_revalidating);
  EXPECT_TRUE(queued_.empty());
  serve("v2");
  EXPECT_EQ(queued_.size(), 1U);
}

TEST_F(StaleWhileRevalidateTest, ResponseDirectiveGrantsRevalidation) {
  const CacheOptions from_response{.storage = {.ttl_from_response = true}};
  const auto render = [] {
    return Page{.headers = {{"Cache-Control", "max-age=10, stale-while-revalidate=30"}},
                .body = "v1"};
  };
  ASSERT_EQ(cache_.cached({.path = "/r"}, from_response, render).outcome,
            CacheOutcome::miss_stored);
  clock_->advance(seconds{12});
  const CacheResult stale = cache_.cached({.path = "/r"}, from_response, render);
  EXPECT_EQ(stale.outcome, CacheOutcome::stale_revalidating);
  EXPECT_EQ(queued_.size(), 1U);
}

TEST_F(StaleWhileRevalidateTest, PastWindowRendersInForeground) {
  serve("v1");
  clock_->advance(seconds{41});
  const CacheResult result = serve("v2");
  EXPECT_EQ(result.outcome, CacheOutcome::miss_stored);
  EXPECT_EQ(result.page->body, "v2");
  EXPECT_TRUE(queued_.empty());
}

// The built-in executor refreshes on its own thread.
TEST(StaleWhileRevalidateBuiltIn, RefreshesInBackground) {
  // Declared before the cache, so it outlives the refresh thread.
  std::atomic<int> version{1};
  auto clock = std::make_shared<ManualClock>();
  auto store = std::make_shared<MemoryStore>(MemoryStore::Options{.clock = clock});
  PageCache cache{store};
  const CacheOptions options{.ttl = seconds{10}, .stale_while_revalidate = seconds{30}};
  const auto render = [&version] { return Page{.body = "v" + std::to_string(version.load())}; };

  ASSERT_EQ(cache.cached({.path = "/home"}, options, render).outcome, CacheOutcome::miss_stored);
  clock->advance(seconds{12});
  version = 2;
  EXPECT_EQ(cache.cached({.path = "/home"}, options, render).page->body, "v1");

  const auto deadline = std::chrono::steady_clock::now() + seconds{10};
  bool refreshed = false;
  while (!refreshed && std::chrono::steady_clock::now() < deadline) {
    const Store::Hit hit = store->get("view//home/anon");
    refreshed = hit && !hit.stale && hit.page->body == "v2";
    std::this_thread::yield();
  }
  EXPECT_TRUE(refreshed);
}

}  // namespace
}  // namespace viewcache
