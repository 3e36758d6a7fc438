// Hole punching (slots filled per reader) and the leak guard.

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "viewcache/auth_aware_key_policy.hpp"
#include "viewcache/cache_event.hpp"
#include "viewcache/memory_store.hpp"
#include "viewcache/metrics.hpp"
#include "viewcache/page_cache.hpp"

namespace viewcache {
namespace {

using std::chrono::seconds;

TEST(FindSlots, FindsValidMarkersOnly) {
  const std::string body =
      "<a><!--viewcache:slot user-menu--></a><!--viewcache:slot Bad Name--><!-- other -->"
      "<!--viewcache:slot csrf_token--><!--viewcache:slot unclosed";
  const std::vector<Slot> slots = find_slots(body);
  ASSERT_EQ(slots.size(), 2U);
  EXPECT_EQ(slots[0].name, "user-menu");
  EXPECT_EQ(body.substr(slots[0].offset, slots[0].length), "<!--viewcache:slot user-menu-->");
  EXPECT_EQ(slots[1].name, "csrf_token");
}

TEST(FillSlots, ReplacesEveryMarker) {
  Page page{.body = "a<!--viewcache:slot x-->b<!--viewcache:slot y-->c"};
  page.slots = find_slots(page.body);
  std::string out;
  fill_slots(page, [](std::string_view name, std::string& text) { text += "[" + std::string{name} + "]"; },
             out);
  EXPECT_EQ(out, "a[x]b[y]c");
}

class HolePunchingTest : public ::testing::Test {
 protected:
  static Page render_home(std::atomic<int>& renders) {
    ++renders;
    return Page{.body = "<body data-audience=\"auth\"><!--viewcache:slot user-menu--><main>courses</main></body>"};
  }

  static auto fill_for(std::string user) {
    return [user = std::move(user)](std::string_view slot, std::string& out) {
      if (slot == "user-menu") {
        out += "<nav data-user=\"" + user + "\">" + user + "</nav>";
      }
    };
  }

  std::shared_ptr<MemoryStore> store_ = std::make_shared<MemoryStore>();
  PageCache cache_{store_};
  std::atomic<int> renders_{0};
};

TEST_F(HolePunchingTest, ReadersShareOnePageWithOwnSlots) {
  const Request alice{.path = "/home", .viewer = Viewer::signed_in("alice")};
  const Request bob{.path = "/home", .viewer = Viewer::signed_in("bob")};

  const CacheResult first = cache_.cached(alice, {}, [&] { return render_home(renders_); }, fill_for("alice"));
  const CacheResult second = cache_.cached(bob, {}, [&] { return render_home(renders_); }, fill_for("bob"));

  EXPECT_EQ(renders_.load(), 1);
  EXPECT_TRUE(second.hit());
  EXPECT_NE(first.body().find("data-user=\"alice\""), std::string_view::npos);
  EXPECT_NE(second.body().find("data-user=\"bob\""), std::string_view::npos);
  EXPECT_EQ(second.body().find("alice"), std::string_view::npos);

  const Store::Hit stored = store_->get("view//home/auth");
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored.page->body.find("alice"), std::string::npos);
  EXPECT_EQ(stored.page->body.find("bob"), std::string::npos);
  EXPECT_EQ(stored.page->slots.size(), 1U);
}

// Many readers at once: none ever receives another reader's slot value.
TEST_F(HolePunchingTest, ConcurrentReadersNeverSeeOthersSlots) {
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const std::string user = "user" + std::to_string(t);
      const Request request{.path = "/home", .viewer = Viewer::signed_in(user)};
      for (int i = 0; i < 2000; ++i) {
        const CacheResult result =
            cache_.cached(request, {}, [&] { return render_home(renders_); }, fill_for(user));
        for (int other = 0; other < 4; ++other) {
          const std::string other_user = "user" + std::to_string(other);
          const bool present = result.body().find("\"" + other_user + "\"") != std::string_view::npos;
          if (present != (other == t)) {
            ++wrong;
          }
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
}

// A route that writes the reader's name into a page keyed per audience: the
// leak guard catches it on the second reader and stops caching the route.
TEST_F(HolePunchingTest, LeakGuardCatchesMisKeyedRoute) {
  const CacheOptions mis_keyed{.route = "dashboard", .leak_guard_sample = 1.0};
  const auto render_for = [&](const std::string& user) {
    return [&, user] {
      ++renders_;
      return Page{.body = "<h1>Courses of " + user + "</h1>"};
    };
  };
  const Request alice{.path = "/dashboard", .viewer = Viewer::signed_in("alice")};
  const Request bob{.path = "/dashboard", .viewer = Viewer::signed_in("bob")};

  EXPECT_EQ(cache_.cached(alice, mis_keyed, render_for("alice")).outcome, CacheOutcome::miss_stored);
  const CacheResult caught = cache_.cached(bob, mis_keyed, render_for("bob"));
  EXPECT_EQ(caught.outcome, CacheOutcome::bypass_leak);
  EXPECT_EQ(caught.page->body, "<h1>Courses of bob</h1>");
  EXPECT_EQ(cache_.stats().leaks, 1U);
  ASSERT_EQ(cache_.leaking_routes().size(), 1U);
  EXPECT_EQ(cache_.leaking_routes()[0], "dashboard");

  // Disabled: every signed-in request renders and gets no stored page.
  const CacheResult later = cache_.cached(alice, mis_keyed, render_for("alice"));
  EXPECT_EQ(later.outcome, CacheOutcome::bypass_leak);
  EXPECT_EQ(later.cache_status(), "viewcache; fwd=bypass; fwd-status=200; detail=leak-guard");
  EXPECT_EQ(later.page->body, "<h1>Courses of alice</h1>");

  // The anonymous variant names no reader and is still served from the store.
  const Request anonymous{.path = "/dashboard"};
  EXPECT_EQ(cache_.cached(anonymous, mis_keyed, render_for("anonymous")).outcome,
            CacheOutcome::miss_stored);
  EXPECT_TRUE(cache_.cached(anonymous, mis_keyed, render_for("anonymous")).hit());

  // With a per-user key the route is cached again.
  const CacheOptions per_user{
      .route = "dashboard",
      .key_policy = std::make_shared<const AuthAwareKeyPolicy>(AuthAwareKeyPolicy::Options{
          .vary_by = VariantScope::user, .user_secret = "leak-guard-test-secret"}),
      .leak_guard_sample = 1.0};
  EXPECT_EQ(cache_.cached(bob, per_user, render_for("bob")).outcome, CacheOutcome::miss_stored);
  EXPECT_TRUE(cache_.cached(bob, per_user, render_for("bob")).hit());
}

TEST(LeakGuardEvents, LeakIsReportedOnce) {
  std::vector<std::string> events;
  PageCache cache{std::make_shared<MemoryStore>(),
                  PageCache::Options{.on_event = [&events](const CacheEvent& event) {
                    if (event.kind == CacheEventKind::leak) {
                      events.push_back(std::string{event.route} + " " + std::string{event.key});
                    }
                  }}};
  const CacheOptions mis_keyed{.route = "dashboard", .leak_guard_sample = 1.0};
  for (const char* user : {"alice", "bob", "carol", "bob"}) {
    const Request request{.path = "/dashboard", .viewer = Viewer::signed_in(user)};
    (void)cache.cached(request, mis_keyed, [user] { return Page{.body = user}; });
  }
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0], "dashboard view//dashboard/auth");

  // carol and the second bob request were not served from the store.
  const MetricsSnapshot snapshot = metrics_snapshot(cache);
  ASSERT_EQ(snapshot.routes.size(), 1U);
  EXPECT_EQ(snapshot.routes[0].of(Audience::signed_in).bypassed_leak, 2U);
  std::string text;
  write_prometheus(cache, text);
  EXPECT_NE(text.find(R"(viewcache_bypassed_total{route="dashboard",audience="auth",reason="leak"} 2)"),
            std::string::npos)
      << text;
}

// A reader who waits for another reader's render (single-flight) receives
// that render; the leak guard audits it as it audits a hit.
TEST(LeakGuardEvents, CollapsedWaiterIsAudited) {
  PageCache cache{std::make_shared<MemoryStore>()};
  const CacheOptions mis_keyed{.route = "dashboard", .leak_guard_sample = 1.0};
  std::atomic<bool> alice_rendering{false};

  std::thread alice([&] {
    const Request request{.path = "/dashboard", .viewer = Viewer::signed_in("alice")};
    (void)cache.cached(request, mis_keyed, [&] {
      alice_rendering = true;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
      while (cache.stats().waiting == 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
      }
      return Page{.body = "alice"};
    });
  });
  while (!alice_rendering) {
    std::this_thread::yield();
  }
  const Request bob{.path = "/dashboard", .viewer = Viewer::signed_in("bob")};
  const CacheResult result = cache.cached(bob, mis_keyed, [] { return Page{.body = "bob"}; });
  alice.join();

  EXPECT_EQ(result.page->body, "bob");
  EXPECT_EQ(result.outcome, CacheOutcome::bypass_leak);
  EXPECT_EQ(cache.stats().leaks, 1U);
}

// Three waiters find the same leak at once; it is counted and reported once.
TEST(LeakGuardEvents, ConcurrentFindingsReportOnce) {
  std::atomic<int> reports{0};
  PageCache cache{std::make_shared<MemoryStore>(),
                  PageCache::Options{.on_event = [&reports](const CacheEvent& event) {
                    if (event.kind == CacheEventKind::leak) {
                      ++reports;
                    }
                  }}};
  const CacheOptions mis_keyed{.route = "dashboard", .leak_guard_sample = 1.0};
  std::atomic<bool> leader_rendering{false};

  std::thread leader([&] {
    const Request request{.path = "/dashboard", .viewer = Viewer::signed_in("alice")};
    (void)cache.cached(request, mis_keyed, [&] {
      leader_rendering = true;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
      while (cache.stats().waiting < 3 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
      }
      return Page{.body = "alice"};
    });
  });
  while (!leader_rendering) {
    std::this_thread::yield();
  }
  std::vector<std::thread> waiters;
  std::atomic<int> wrong{0};
  for (const char* user : {"bob", "carol", "dave"}) {
    waiters.emplace_back([&, user] {
      const Request request{.path = "/dashboard", .viewer = Viewer::signed_in(user)};
      const CacheResult result =
          cache.cached(request, mis_keyed, [user] { return Page{.body = user}; });
      if (result.page->body != user) {
        ++wrong;
      }
    });
  }
  for (auto& waiter : waiters) waiter.join();
  leader.join();

  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(cache.stats().leaks, 1U);
  EXPECT_EQ(reports.load(), 1);
}

TEST_F(HolePunchingTest, LeakGuardPassesSlottedPage) {
  const CacheOptions options{.route = "home", .leak_guard_sample = 1.0};
  for (const char* user : {"alice", "bob", "carol"}) {
    const Request request{.path = "/home", .viewer = Viewer::signed_in(user)};
    const CacheResult result =
        cache_.cached(request, options, [&] { return render_home(renders_); }, fill_for(user));
    EXPECT_NE(result.outcome, CacheOutcome::bypass_leak) << user;
  }
  EXPECT_EQ(cache_.stats().leaks, 0U);
  EXPECT_EQ(cache_.stats().audited, 2U);
}

TEST_F(HolePunchingTest, LeakGuardSkipsAnonymousAndPerUser) {
  const CacheOptions options{.route = "home", .leak_guard_sample = 1.0};
  for (int i = 0; i < 3; ++i) {
    (void)cache_.cached({.path = "/home"}, options, [&] { return render_home(renders_); });
  }
  EXPECT_EQ(cache_.stats().audited, 0U);
}

}  // namespace
}  // namespace viewcache
