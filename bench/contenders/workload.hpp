#pragma once

// The workload every contender of viewcache_latency_bench serves: the same
// 16 KiB page under the same 1,024 keys. The keys are the ones
// AuthAwareKeyPolicy builds for typical requests (a 55-byte path, a short
// query, a signed-in viewer), so every store contains the same key bytes.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "viewcache/viewcache.hpp"

namespace viewcache::bench {

inline constexpr std::size_t page_bytes = 16 * 1024;

// A power of two, so a thread walks the keys with a mask. 1,024 pages of
// 16 KiB are 16 MiB, far more than an L2 cache, so contenders that copy the
// body read most of it from L3 or memory.
inline constexpr std::size_t key_count = 1024;
inline constexpr std::size_t key_mask = key_count - 1;

// The query is given unsorted, so the default policy has to sort it.
inline constexpr std::string_view request_query = "sort=name&page=2";
inline constexpr std::string_view request_user = "alice";

// Request paths such as "/course/explore/intermediate/cpp20-features/lesson-0042".
inline const std::vector<std::string>& request_paths() {
  static const std::vector<std::string> paths = [] {
    std::vector<std::string> all;
    all.reserve(key_count);
    for (std::size_t i = 0; i < key_count; ++i) {
      std::string number = std::to_string(i);
      number.insert(0, 4 - number.size(), '0');
      all.push_back("/course/explore/intermediate/cpp20-features/lesson-" + number);
    }
    return all;
  }();
  return paths;
}

inline Request make_request(std::size_t index) {
  return Request{.path = request_paths()[index],
                 .query = request_query,
                 .viewer = Viewer::signed_in(request_user)};
}

// The keys of make_request(0 .. key_count - 1) under the default policy, such
// as "view//course/explore/intermediate/cpp20-features/lesson-0042/auth?page=2&sort=name".
inline const std::vector<std::string>& keys() {
  static const std::vector<std::string> all = [] {
    const AuthAwareKeyPolicy policy;
    std::vector<std::string> built;
    built.reserve(key_count);
    for (std::size_t i = 0; i < key_count; ++i) {
      built.push_back(policy.key(make_request(i)).value());
    }
    return built;
  }();
  return all;
}

inline Page make_page() {
  return Page{.headers = {{"Content-Type", "text/html; charset=utf-8"}},
              .body = std::string(page_bytes, 'x')};
}

// One copy of the page per key, as a store contains after rendering each
// page once. Sharing one object between all keys would make every hit update the
// same reference count, a contention point that real traffic over many pages
// does not have.
inline const std::vector<std::shared_ptr<const Page>>& pages() {
  static const std::vector<std::shared_ptr<const Page>> all = [] {
    std::vector<std::shared_ptr<const Page>> created;
    created.reserve(key_count);
    for (std::size_t i = 0; i < key_count; ++i) {
      created.push_back(std::make_shared<const Page>(make_page()));
    }
    return created;
  }();
  return all;
}

// The bodies of pages() as the string-valued contenders store them, one
// object per key for the same reason.
inline const std::vector<std::shared_ptr<const std::string>>& bodies() {
  static const std::vector<std::shared_ptr<const std::string>> all = [] {
    std::vector<std::shared_ptr<const std::string>> created;
    created.reserve(key_count);
    for (std::size_t i = 0; i < key_count; ++i) {
      created.push_back(std::make_shared<const std::string>(page_bytes, 'x'));
    }
    return created;
  }();
  return all;
}

// The first key a benchmark thread looks up. Threads start far apart, so two
// threads do not walk the same keys in step.
inline std::size_t first_key_for(int thread_index) {
  return (static_cast<std::size_t>(thread_index) * (key_count / 2 + 7)) & key_mask;
}

}  // namespace viewcache::bench
