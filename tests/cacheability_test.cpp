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

}  // namespace
}  // namespace viewcache
