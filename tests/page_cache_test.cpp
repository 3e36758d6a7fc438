#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "viewcache/auth_aware_key_policy.hpp"
#include "viewcache/memory_store.hpp"
#include "viewcache/page_cache.hpp"

namespace viewcache {
namespace {

using std::chrono::seconds;

// A stand-in for an application's page: it renders the login button for
// anonymous viewers and the user menu for signed-in ones, and counts renders.
class FakeSite {
 public:
  Page render(const Request& request) {
    ++renders;
    Page page;
    if (request.viewer.audience == Audience::signed_in) {
      page.body = "<body data-audience=\"auth\"><nav>user menu</nav></body>";
    } else {
      page.body = "<body data-audience=\"anon\"><a>Log in</a></body>";
    }
    return page;
  }

  int renders = 0;
};

class PageCacheTest : public ::testing::Test {
 protected:
  CacheResult serve(const Request& request) {
    return cache_.cached(request, options_, [&] { return site_.render(request); });
  }

  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  std::shared_ptr<MemoryStore> store_ = std::make_shared<MemoryStore>(
      MemoryStore::Options{.clock = clock_});
  PageCache cache_{store_};
  CacheOptions options_{.ttl = seconds{90}};
  FakeSite site_;
};

TEST_F(PageCacheTest, LoginLogoutFlowServesEachAudienceItsPage) {
  const Request anonymous{.path = "/home", .viewer = Viewer::anonymous()};
  const Request signed_in{.path = "/home", .viewer = Viewer::signed_in("alice")};

  const CacheResult first = serve(anonymous);
  EXPECT_EQ(first.outcome, CacheOutcome::miss_stored);
  EXPECT_NE(first.page->body.find("Log in"), std::string::npos);

  const CacheResult after_login = serve(signed_in);
  EXPECT_EQ(after_login.outcome, CacheOutcome::miss_stored);
  EXPECT_NE(after_login.page->body.find("user menu"), std::string::npos);

  for (int refresh = 0; refresh < 5; ++refresh) {
    const CacheResult result = serve(signed_in);
    EXPECT_TRUE(result.hit()) << "refresh " << refresh;
    EXPECT_NE(result.page->body.find("user menu"), std::string::npos) << "refresh " << refresh;
  }

  const CacheResult after_logout = serve(anonymous);
  EXPECT_TRUE(after_logout.hit());
  EXPECT_NE(after_logout.page->body.find("Log in"), std::string::npos);

  for (int refresh = 0; refresh < 5; ++refresh) {
    const CacheResult result = serve(anonymous);
    EXPECT_TRUE(result.hit()) << "refresh " << refresh;
    EXPECT_NE(result.page->body.find("Log in"), std::string::npos) << "refresh " << refresh;
    EXPECT_EQ(result.page->body.find("user menu"), std::string::npos) << "refresh " << refresh;
  }
  EXPECT_EQ(site_.renders, 2);
}

TEST_F(PageCacheTest, HitSharesStoredPage) {
  const Request request{.path = "/home"};
  const CacheResult miss = serve(request);
  const CacheResult hit = serve(request);
  EXPECT_EQ(hit.page.get(), miss.page.get());
}

TEST_F(PageCacheTest, EntryExpiresAfterTtl) {
  const Request request{.path = "/home"};
  serve(request);

  clock_->advance(seconds{89});
  EXPECT_TRUE(serve(request).hit());

  clock_->advance(seconds{1});
  EXPECT_EQ(serve(request).outcome, CacheOutcome::miss_stored);
  EXPECT_EQ(site_.renders, 2);
}

TEST_F(PageCacheTest, RenderExceptionStoresNothing) {
  const Request request{.path = "/home"};
  EXPECT_THROW(
      cache_.cached(request, options_, []() -> Page { throw std::runtime_error("database down"); }),
      std::runtime_error);
  EXPECT_EQ(store_->stats().entries, 0U);

  EXPECT_EQ(serve(request).outcome, CacheOutcome::miss_stored);
  EXPECT_EQ(site_.renders, 1);
}

TEST_F(PageCacheTest, HeadIsServedFromGetEntry) {
  serve({.method = "GET", .path = "/home"});
  const CacheResult head = serve({.method = "HEAD", .path = "/home"});
  EXPECT_TRUE(head.hit());
  EXPECT_EQ(site_.renders, 1);
}

TEST_F(PageCacheTest, HeadMissIsNotStored) {
  const CacheResult head = serve({.method = "HEAD", .path = "/home"});
  EXPECT_EQ(head.outcome, CacheOutcome::miss_not_stored);
  EXPECT_EQ(head.decision, StoreDecision::refuse_method);
  EXPECT_EQ(store_->stats().entries, 0U);
}

TEST_F(PageCacheTest, OtherMethodsBypassStore) {
  serve({.method = "GET", .path = "/home"});
  const CacheResult post = serve({.method = "POST", .path = "/home"});
  EXPECT_EQ(post.outcome, CacheOutcome::bypass_method);
  EXPECT_EQ(post.cache_status(), "viewcache; fwd=method; fwd-status=200");
  EXPECT_EQ(site_.renders, 2);
}

TEST_F(PageCacheTest, RefusedPagesAreNotStored) {
  const std::vector<std::pair<Page, StoreDecision>> cases = {
      {Page{.status = 404}, StoreDecision::refuse_status},
      {Page{.headers = {{"Set-Cookie", "session=abc"}}}, StoreDecision::refuse_set_cookie},
      {Page{.headers = {{"Cache-Control", "private"}}}, StoreDecision::refuse_cache_control},
      {Page{.headers = {{"Cache-Control", "no-store"}}}, StoreDecision::refuse_cache_control},
  };
  for (const auto& [page, decision] : cases) {
    const Request request{.path = "/home"};
    const CacheResult result = cache_.cached(request, options_, [&] { return page; });
    EXPECT_EQ(result.outcome, CacheOutcome::miss_not_stored);
    EXPECT_EQ(result.decision, decision);
    EXPECT_FALSE(store_->get("view//home/anon"));
  }
}

TEST_F(PageCacheTest, ZeroTtlStoresNothing) {
  const CacheResult result =
      cache_.cached({.path = "/home"}, {.ttl = seconds{0}}, [] { return Page{}; });
  EXPECT_EQ(result.decision, StoreDecision::refuse_ttl);
  EXPECT_EQ(store_->stats().entries, 0U);
}

TEST_F(PageCacheTest, InvalidPathBypassesStore) {
  const CacheResult result = serve({.path = "/a?b"});
  EXPECT_EQ(result.outcome, CacheOutcome::bypass_key);
  EXPECT_EQ(result.cache_status(), "viewcache; fwd=bypass; fwd-status=200; detail=invalid-path");
  EXPECT_EQ(store_->stats().entries, 0U);
}

TEST_F(PageCacheTest, CacheStatusValues) {
  const Request request{.path = "/home"};
  EXPECT_EQ(serve(request).cache_status(), "viewcache; fwd=miss; stored");
  clock_->advance(seconds{30});
  EXPECT_EQ(serve(request).cache_status(), "viewcache; hit; ttl=60");
  clock_->advance(std::chrono::milliseconds{59600});
  EXPECT_EQ(serve(request).cache_status(), "viewcache; hit; ttl=1");

  const CacheResult refused =
      cache_.cached({.path = "/x"}, options_, [] { return Page{.status = 404}; });
  EXPECT_EQ(refused.cache_status(), "viewcache; fwd=miss; fwd-status=404; detail=status");
}

TEST_F(PageCacheTest, RoutePolicyOverridesDefault) {
  auto per_user = std::make_shared<const AuthAwareKeyPolicy>(
      AuthAwareKeyPolicy::Options{.vary_by = VariantScope::user, .user_secret = "page-cache-test-secret"});
  const CacheOptions options{.ttl = seconds{60}, .key_policy = per_user};
  const Request alice{.path = "/dashboard", .viewer = Viewer::signed_in("alice")};
  const Request bob{.path = "/dashboard", .viewer = Viewer::signed_in("bob")};

  const auto render_for = [](const Request& request) {
    return Page{.body = std::string{request.viewer.user_id}};
  };
  EXPECT_EQ(cache_.cached(alice, options, [&] { return render_for(alice); }).page->body, "alice");
  EXPECT_EQ(cache_.cached(bob, options, [&] { return render_for(bob); }).page->body, "bob");
  EXPECT_EQ(cache_.cached(alice, options, [&] { return render_for(alice); }).page->body, "alice");
}

TEST_F(PageCacheTest, InvalidateRemovesEntry) {
  const Request request{.path = "/home"};
  serve(request);
  EXPECT_TRUE(cache_.invalidate(request));
  EXPECT_EQ(serve(request).outcome, CacheOutcome::miss_stored);
}

TEST_F(PageCacheTest, RefusalsAreCountedByReason) {
  cache_.cached({.path = "/a"}, options_, [] { return Page{.status = 404}; });
  cache_.cached({.path = "/b"}, options_, [] { return Page{.status = 500}; });
  cache_.cached({.path = "/c"}, options_,
                [] { return Page{.headers = {{"Cache-Control", "private"}}}; });
  const PageCacheStats stats = cache_.stats();
  EXPECT_EQ(stats.refused_for(StoreDecision::refuse_status), 2U);
  EXPECT_EQ(stats.refused_for(StoreDecision::refuse_cache_control), 1U);
  EXPECT_EQ(stats.refused_for(StoreDecision::refuse_set_cookie), 0U);
}

TEST_F(PageCacheTest, StrippedCopyIsStoredReaderKeepsCookie) {
  const CacheOptions options{.storage = {.strip_set_cookie = true}};
  const CacheResult first = cache_.cached({.path = "/home"}, options, [] {
    return Page{.headers = {{"Set-Cookie", "csrf=1"}, {"Content-Type", "text/html"}}, .body = "b"};
  });
  EXPECT_EQ(first.outcome, CacheOutcome::miss_stored);
  EXPECT_EQ(first.page->header("Set-Cookie"), "csrf=1");

  const CacheResult second = cache_.cached({.path = "/home"}, options, [] { return Page{}; });
  ASSERT_TRUE(second.hit());
  EXPECT_FALSE(second.page->has_header("Set-Cookie"));
  EXPECT_EQ(second.page->header("Content-Type"), "text/html");
}

TEST_F(PageCacheTest, TtlFromResponse) {
  const CacheOptions options{.ttl = seconds{90}, .storage = {.ttl_from_response = true}};
  const CacheResult stored = cache_.cached({.path = "/home"}, options, [] {
    return Page{.headers = {{"Cache-Control", "public, max-age=10, s-maxage=20"}}};
  });
  EXPECT_EQ(stored.ttl, seconds{20});
  clock_->advance(seconds{19});
  EXPECT_TRUE(cache_.cached({.path = "/home"}, options, [] { return Page{}; }).hit());
  clock_->advance(seconds{1});
  EXPECT_FALSE(cache_.cached({.path = "/home"}, options, [] { return Page{}; }).hit());

  const CacheResult zero = cache_.cached({.path = "/zero"}, options, [] {
    return Page{.headers = {{"Cache-Control", "max-age=0"}}};
  });
  EXPECT_EQ(zero.decision, StoreDecision::refuse_ttl);
}

TEST_F(PageCacheTest, ExtraStatusUsesItsTtl) {
  const CacheOptions options{.ttl = seconds{90},
                             .storage = {.extra_statuses = {{404, seconds{5}}}}};
  const CacheResult first =
      cache_.cached({.path = "/missing"}, options, [] { return Page{.status = 404}; });
  EXPECT_EQ(first.outcome, CacheOutcome::miss_stored);
  clock_->advance(seconds{5});
  EXPECT_FALSE(cache_.cached({.path = "/missing"}, options, [] { return Page{.status = 404}; }).hit());
}

TEST(PageCacheOptions, ExposedKeyInCacheStatus) {
  PageCache cache{std::make_shared<MemoryStore>(), PageCache::Options{.expose_key = true}};
  const CacheResult miss = cache.cached({.path = "/a\"b", .query = "q=1"}, {}, [] { return Page{}; });
  EXPECT_EQ(miss.cache_status(), "viewcache; fwd=miss; stored; key=\"view//a%22b/anon?q=1\"");
  const CacheResult hit = cache.cached({.path = "/a\"b", .query = "q=1"}, {}, [] { return Page{}; });
  EXPECT_EQ(hit.cache_status(), "viewcache; hit; ttl=60; key=\"view//a%22b/anon?q=1\"");

  PageCache quiet{std::make_shared<MemoryStore>()};
  EXPECT_EQ(quiet.cached({.path = "/a"}, {}, [] { return Page{}; }).cache_status(),
            "viewcache; fwd=miss; stored");
}

TEST_F(PageCacheTest, RouteJitterShortensTtl) {
  const CacheOptions options{.ttl = seconds{60}, .ttl_jitter = seconds{10}};
  std::set<std::int64_t> ttls;
  for (int i = 0; i < 100; ++i) {
    const std::string path = "/page/" + std::to_string(i);
    const CacheResult result = cache_.cached({.path = path}, options, [] { return Page{}; });
    ASSERT_EQ(result.outcome, CacheOutcome::miss_stored);
    EXPECT_GE(result.ttl, seconds{50});
    EXPECT_LE(result.ttl, seconds{60});
    ttls.insert(result.ttl.count());
  }
  EXPECT_GT(ttls.size(), 20U);
}

TEST_F(PageCacheTest, ExtraMethodIsLookedUpAndStored) {
  const CacheOptions options{.ttl = seconds{60}, .storage = {.extra_methods = {"POST"}}};
  const Request post{.method = "POST", .path = "/graphql", .query = "id=7"};
  EXPECT_EQ(cache_.cached(post, options, [] { return Page{.body = "result"}; }).outcome,
            CacheOutcome::miss_stored);
  EXPECT_TRUE(cache_.cached(post, options, [] { return Page{}; }).hit());
  EXPECT_TRUE(store_->get("POST:view//graphql/anon?id=7"));
  const Request get{.method = "GET", .path = "/graphql", .query = "id=7"};
  EXPECT_EQ(cache_.cached(get, options, [] { return Page{.body = "get"}; }).page->body, "get")
      << "GET never receives the POST page";
  EXPECT_EQ(cache_.cached(post, options_, [] { return Page{}; }).outcome,
            CacheOutcome::bypass_method)
      << "a route without the override still bypasses POST";
}

TEST(PageCacheOptions, NullStoreThrows) {
  EXPECT_THROW(PageCache{nullptr}, std::invalid_argument);
}

// Two audiences served from many threads at once never see each other's page.
// Run under ThreadSanitizer by the tsan preset.
TEST(PageCacheConcurrency, AudiencesNeverMix) {
  PageCache cache{std::make_shared<MemoryStore>()};
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, &wrong, t] {
      const Viewer viewer = t % 2 == 0 ? Viewer::anonymous() : Viewer::signed_in("user");
      const std::string expected = t % 2 == 0 ? "anon" : "auth";
      for (int i = 0; i < 5000; ++i) {
        const std::string path = "/page/" + std::to_string(i % 50);
        const Request request{.path = path, .viewer = viewer};
        const CacheResult result =
            cache.cached(request, {.ttl = seconds{60}}, [&] { return Page{.body = expected}; });
        if (result.page->body != expected) {
          wrong.fetch_add(1);
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace viewcache
