// Stale-if-error (RFC 5861 section 4): a page kept past its TTL answers for a
// render that throws or returns a server error. Time moves by a manual clock.

#include <gtest/gtest.h>

#include <stdexcept>

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
