#include <gtest/gtest.h>

#include "viewcache/cacheability.hpp"

namespace viewcache {
namespace {

Page page_with(int status, std::vector<Header> headers) {
  return Page{.status = status, .headers = std::move(headers), .body = "body"};
}

const Request get_home{.method = "GET", .path = "/home"};

TEST(CacheControlDirective, MatchesWholeDirectiveNames) {
  EXPECT_TRUE(has_cache_control_directive("private", "private"));
  EXPECT_TRUE(has_cache_control_directive("Private", "private"));
  EXPECT_TRUE(has_cache_control_directive("max-age=60, private", "private"));
  EXPECT_TRUE(has_cache_control_directive("private=\"Set-Cookie\"", "private"));
  EXPECT_TRUE(has_cache_control_directive(" no-store ", "no-store"));
  EXPECT_TRUE(has_cache_control_directive("public,no-store", "no-store"));
}

TEST(CacheControlDirective, IgnoresLookalikes) {
  EXPECT_FALSE(has_cache_control_directive("", "private"));
  EXPECT_FALSE(has_cache_control_directive("no-private", "private"));
  EXPECT_FALSE(has_cache_control_directive("privately", "private"));
  EXPECT_FALSE(has_cache_control_directive("max-age=60", "private"));
  EXPECT_FALSE(has_cache_control_directive("ext=\"a, private\"", "private"));
  EXPECT_FALSE(has_cache_control_directive("ext=\"a\\\", private\"", "private"));
}

TEST(DecideStorage, StoresPlainOkGet) {
  EXPECT_EQ(decide_storage(get_home, page_with(200, {{"Content-Type", "text/html"}})),
            StoreDecision::store);
  EXPECT_EQ(decide_storage(get_home, page_with(200, {{"Cache-Control", "public, max-age=60"}})),
            StoreDecision::store);
}

TEST(DecideStorage, RefusesOtherMethods) {
  for (const auto* method : {"HEAD", "POST", "PUT", "DELETE", "get"}) {
    const Request request{.method = method, .path = "/home"};
    EXPECT_EQ(decide_storage(request, page_with(200, {})), StoreDecision::refuse_method) << method;
  }
}

TEST(DecideStorage, RefusesStatusOtherThan200) {
  for (const int status : {201, 204, 301, 302, 304, 404, 500, 503}) {
    EXPECT_EQ(decide_storage(get_home, page_with(status, {})), StoreDecision::refuse_status)
        << status;
  }
}

TEST(DecideStorage, RefusesSetCookieInAnyCase) {
  EXPECT_EQ(decide_storage(get_home, page_with(200, {{"Set-Cookie", "session=1"}})),
            StoreDecision::refuse_set_cookie);
  EXPECT_EQ(decide_storage(get_home, page_with(200, {{"set-cookie", "a=b"}})),
            StoreDecision::refuse_set_cookie);
}

TEST(DecideStorage, RefusesPrivateAndNoStore) {
  EXPECT_EQ(decide_storage(get_home, page_with(200, {{"Cache-Control", "private"}})),
            StoreDecision::refuse_cache_control);
  EXPECT_EQ(decide_storage(get_home, page_with(200, {{"cache-control", "max-age=5, no-store"}})),
            StoreDecision::refuse_cache_control);
}

TEST(DecideStorage, ChecksEveryCacheControlHeader) {
  const Page page = page_with(200, {{"Cache-Control", "max-age=60"}, {"Cache-Control", "private"}});
  EXPECT_EQ(decide_storage(get_home, page), StoreDecision::refuse_cache_control);
}

TEST(DecideStorage, RefusesNoCacheUnlessAllowed) {
  const Page page = page_with(200, {{"Cache-Control", "no-cache"}});
  EXPECT_EQ(decide_storage(get_home, page), StoreDecision::refuse_cache_control);
  EXPECT_EQ(decide_storage(get_home, page, {.allow_no_cache = true}), StoreDecision::store);
}

TEST(DecideStorage, RefusesUncoveredVary) {
  EXPECT_EQ(decide_storage(get_home, page_with(200, {{"Vary", "*"}})), StoreDecision::refuse_vary);
  EXPECT_EQ(decide_storage(get_home, page_with(200, {{"Vary", "Accept-Language"}})),
            StoreDecision::refuse_vary);

  const StorageRules rules{.covered_vary_headers = {"accept-language", "X-Tenant"}};
  EXPECT_EQ(decide_storage(get_home, page_with(200, {{"Vary", "Accept-Language, x-tenant"}}), rules),
            StoreDecision::store);
  EXPECT_EQ(decide_storage(get_home, page_with(200, {{"Vary", "Accept-Language, Cookie"}}), rules),
            StoreDecision::refuse_vary);
  EXPECT_EQ(decide_storage(get_home, page_with(200, {{"Vary", "*"}}), rules),
            StoreDecision::refuse_vary);
}

TEST(DecideStorage, AuthorizationNeedsPublicOrSharedMaxAge) {
  const Request authorized{.method = "GET", .path = "/home", .has_authorization = true};
  EXPECT_EQ(decide_storage(authorized, page_with(200, {})), StoreDecision::refuse_authorization);
  EXPECT_EQ(decide_storage(authorized, page_with(200, {{"Cache-Control", "max-age=60"}})),
            StoreDecision::refuse_authorization);
  EXPECT_EQ(decide_storage(authorized, page_with(200, {{"Cache-Control", "public"}})),
            StoreDecision::store);
  EXPECT_EQ(decide_storage(authorized, page_with(200, {{"Cache-Control", "s-maxage=30"}})),
            StoreDecision::store);
}

TEST(DecideStorage, RefusesOversizedBody) {
  Page page = page_with(200, {});
  page.body.assign(101, 'x');
  EXPECT_EQ(decide_storage(get_home, page, {.max_body_bytes = 100}), StoreDecision::refuse_size);
  page.body.resize(100);
  EXPECT_EQ(decide_storage(get_home, page, {.max_body_bytes = 100}), StoreDecision::store);
}

TEST(DecideStorage, ExtraStatusesAreStored) {
  const StorageRules rules{.extra_statuses = {{404, std::chrono::seconds{30}},
                                              {301, std::chrono::hours{1}}}};
  EXPECT_EQ(decide_storage(get_home, page_with(404, {}), rules), StoreDecision::store);
  EXPECT_EQ(decide_storage(get_home, page_with(301, {}), rules), StoreDecision::store);
  EXPECT_EQ(decide_storage(get_home, page_with(308, {}), rules), StoreDecision::refuse_status);
  EXPECT_EQ(storage_ttl(page_with(404, {}), rules, std::chrono::seconds{90}),
            std::chrono::seconds{30});
  EXPECT_EQ(storage_ttl(page_with(200, {}), rules, std::chrono::seconds{90}),
            std::chrono::seconds{90});
}

TEST(DecideStorage, SetCookieMayBeStripped) {
  EXPECT_EQ(decide_storage(get_home, page_with(200, {{"Set-Cookie", "a=b"}}),
                           {.strip_set_cookie = true}),
            StoreDecision::store);
}

TEST(DecideStorage, RemainingRulesMayBeRelaxed) {
  EXPECT_EQ(decide_storage(get_home, page_with(200, {{"Vary", "*"}}),
                           {.covered_vary_headers = {"*"}}),
            StoreDecision::store);
  EXPECT_EQ(decide_storage(get_home, page_with(200, {{"Cache-Control", "no-store"}}),
                           {.allow_no_store = true}),
            StoreDecision::store);

  const Request post{.method = "POST", .path = "/graphql"};
  EXPECT_EQ(decide_storage(post, page_with(200, {})), StoreDecision::refuse_method);
  EXPECT_EQ(decide_storage(post, page_with(200, {}), {.extra_methods = {"POST"}}),
            StoreDecision::store);
  const Request put{.method = "PUT", .path = "/graphql"};
  EXPECT_EQ(decide_storage(put, page_with(200, {}), {.extra_methods = {"POST"}}),
            StoreDecision::refuse_method);
}

TEST(DecideStorage, PrivateAndAuthorizationMayBeAllowed) {
  EXPECT_EQ(decide_storage(get_home, page_with(200, {{"Cache-Control", "private"}}),
                           {.allow_private = true}),
            StoreDecision::store);
  EXPECT_EQ(decide_storage(get_home, page_with(200, {{"Cache-Control", "private, no-store"}}),
                           {.allow_private = true}),
            StoreDecision::refuse_cache_control);
  const Request authorized{.method = "GET", .path = "/home", .has_authorization = true};
  EXPECT_EQ(decide_storage(authorized, page_with(200, {}), {.allow_authorization = true}),
            StoreDecision::store);
}

TEST(StorageTtl, SharedMaxAgeBeforeMaxAge) {
  const StorageRules rules{.ttl_from_response = true};
  using std::chrono::seconds;
  EXPECT_EQ(storage_ttl(page_with(200, {{"Cache-Control", "max-age=60, s-maxage=300"}}), rules,
                        seconds{90}),
            seconds{300});
  EXPECT_EQ(storage_ttl(page_with(200, {{"Cache-Control", "public, max-age=60"}}), rules,
                        seconds{90}),
            seconds{60});
  EXPECT_EQ(storage_ttl(page_with(200, {{"Cache-Control", "public"}}), rules, seconds{90}),
            seconds{90});
  EXPECT_EQ(storage_ttl(page_with(200, {{"Cache-Control", "max-age=0"}}), rules, seconds{90}),
            seconds{0});
  EXPECT_EQ(storage_ttl(page_with(200, {{"Cache-Control", "max-age=60"}}), {}, seconds{90}),
            seconds{90});
}

TEST(CacheControlSeconds, ParsesOnlyNonNegativeIntegers) {
  EXPECT_EQ(cache_control_seconds("max-age=60", "max-age"), 60);
  EXPECT_EQ(cache_control_seconds("max-age=\"60\"", "max-age"), 60);
  EXPECT_EQ(cache_control_seconds("MAX-AGE=5", "max-age"), 5);
  EXPECT_EQ(cache_control_seconds("max-age=-1", "max-age"), std::nullopt);
  EXPECT_EQ(cache_control_seconds("max-age=6x", "max-age"), std::nullopt);
  EXPECT_EQ(cache_control_seconds("max-age", "max-age"), std::nullopt);
  EXPECT_EQ(cache_control_seconds("s-maxage=5", "max-age"), std::nullopt);
}

}  // namespace
}  // namespace viewcache
