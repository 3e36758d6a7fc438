#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <map>
#include <sstream>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "viewcache/auth_aware_key_policy.hpp"
#include "viewcache/memory_store.hpp"
#include "viewcache/page_cache.hpp"

namespace viewcache {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::string_view test_secret = "0123456789abcdef";

std::shared_ptr<const Page> page_with_tags(std::string body, std::vector<std::string> tags) {
  auto page = std::make_shared<Page>();
  page->body = std::move(body);
  page->tags = std::move(tags);
  return page;
}

std::string family_of(const CacheKeyPolicy& policy, const Request& request) {
  KeyBuffer family;
  EXPECT_EQ(policy.append_family(request, family), KeyStatus::ok) << request.path;
  return family.str();
}

// A policy that keys by path alone and has no families, as a custom policy
// written before families existed would.
class PathOnlyPolicy final : public CacheKeyPolicy {
 public:
  [[nodiscard]] KeyStatus append_key(const Request& request, KeyBuffer& out) const override {
    out.append(request.path);
    return KeyStatus::ok;
  }
};

TEST(KeyFamily, IsKeyUpToVariant) {
  const AuthAwareKeyPolicy policy;
  EXPECT_EQ(family_of(policy, {.path = "/post/5"}), "view//post/5/");
  EXPECT_EQ(family_of(policy, {.path = "/post/5", .query = "page=2",
                               .viewer = Viewer::signed_in("alice")}),
            "view//post/5/");
  EXPECT_EQ(family_of(policy, {.path = "/post/50"}), "view//post/50/");
  EXPECT_EQ(family_of(policy, {.path = "/post/%7e5"}), "view//post/~5/");
}

TEST(KeyFamily, IsPrefixOfEveryVariantKey) {
  const AuthAwareKeyPolicy policy;
  const std::string family = family_of(policy, {.path = "/post/5"});
  const std::vector<Request> variants = {
      {.path = "/post/5"},
      {.path = "/post/5", .viewer = Viewer::signed_in("alice")},
      {.path = "/post/5", .query = "b=2&a=1"},
  };
  for (const Request& request : variants) {
    const std::optional<std::string> key = policy.key(request);
    ASSERT_TRUE(key.has_value());
    EXPECT_TRUE(key->starts_with(family)) << *key;
  }

  const std::optional<std::string> other = policy.key({.path = "/post/50"});
  ASSERT_TRUE(other.has_value());
  EXPECT_FALSE(other->starts_with(family)) << *other;
}

TEST(KeyFamily, FollowsPathOptions) {
  const AuthAwareKeyPolicy strip{{.path = {.trailing_slash = TrailingSlash::strip}}};
  EXPECT_EQ(family_of(strip, {.path = "/docs/"}), "view//docs/");
  const AuthAwareKeyPolicy keep;
  EXPECT_EQ(family_of(keep, {.path = "/docs/"}), "view//docs//");
}

TEST(KeyFamily, LongPathIsShortened) {
  const AuthAwareKeyPolicy policy{{.max_key_bytes = 80}};
  const std::string shared(100, 'a');
  const std::string first = family_of(policy, {.path = "/" + shared + "x"});
  const std::string second = family_of(policy, {.path = "/" + shared + "y"});
  EXPECT_EQ(first.size(), 80U);
  EXPECT_EQ(second.size(), 80U);
  EXPECT_NE(first, second);
}

// One row of the families table in docs/key-policy.md.
struct FamilyRow {
  std::string viewer;
  std::string target;
  std::string key;
  std::string family;
};

// Returns the text between the first pair of backquotes in cell, or the
// trimmed cell when it has none.
std::string cell_text(std::string_view cell) {
  const std::size_t open = cell.find('`');
  if (open != std::string_view::npos) {
    const std::size_t close = cell.find('`', open + 1);
    return std::string{cell.substr(open + 1, close - open - 1)};
  }
  const std::size_t first = cell.find_first_not_of(' ');
  const std::size_t last = cell.find_last_not_of(' ');
  return first == std::string_view::npos ? "" : std::string{cell.substr(first, last - first + 1)};
}

std::vector<FamilyRow> read_family_rows() {
  std::ifstream file(VIEWCACHE_KEY_POLICY_DOC);
  std::stringstream text;
  text << file.rdbuf();
  const std::string doc = text.str();
  const std::size_t begin = doc.find("<!-- families:begin -->");
  const std::size_t end = doc.find("<!-- families:end -->");
  if (begin == std::string::npos || end == std::string::npos) {
    return {};
  }

  std::vector<FamilyRow> rows;
  std::istringstream table(doc.substr(begin, end - begin));
  std::string line;
  while (std::getline(table, line)) {
    if (!line.starts_with("| ") || line.starts_with("| viewer")) {
      continue;
    }
    std::vector<std::string> cells;
    std::size_t start = 1;
    for (std::size_t bar = line.find('|', start); bar != std::string::npos;
         bar = line.find('|', start)) {
      cells.push_back(cell_text(std::string_view{line}.substr(start, bar - start)));
      start = bar + 1;
    }
    if (cells.size() == 4) {
      const std::string target = cells[1].substr(cells[1].find(' ') + 1);
      rows.push_back({cells[0], target, cells[2], cells[3]});
    }
  }
  return rows;
}

TEST(KeyFamily, DocTableMatchesCode) {
  const std::vector<FamilyRow> rows = read_family_rows();
  ASSERT_GE(rows.size(), 4U) << "no families table in " << VIEWCACHE_KEY_POLICY_DOC;

  const AuthAwareKeyPolicy policy;
  for (const FamilyRow& row : rows) {
    SCOPED_TRACE(row.target);
    const std::size_t question = row.target.find('?');
    const Request request{
        .path = std::string_view{row.target}.substr(0, question),
        .query = question == std::string::npos ? std::string_view{}
                                                : std::string_view{row.target}.substr(question + 1),
        .viewer = row.viewer == "auth" ? Viewer::signed_in("alice") : Viewer::anonymous()};
    EXPECT_EQ(policy.key(request), row.key);
    EXPECT_EQ(family_of(policy, request), row.family);
    EXPECT_TRUE(row.key.starts_with(row.family));
  }
}

TEST(KeyFamily, InvalidPathHasNoFamily) {
  const AuthAwareKeyPolicy policy;
  KeyBuffer family;
  EXPECT_EQ(policy.append_family({.path = "/a?b"}, family), KeyStatus::invalid_path);
}

TEST(KeyFamily, DefaultIsUnsupported) {
  const PathOnlyPolicy policy;
  KeyBuffer family;
  EXPECT_EQ(policy.append_family({.path = "/a"}, family), KeyStatus::unsupported);
  EXPECT_EQ(to_string(KeyStatus::unsupported), "unsupported");
}

TEST(PageTags, CountInByteSize) {
  Page page;
  const std::size_t without_tags = page.byte_size();
  page.tags = {"course:1", "home"};
  EXPECT_EQ(page.byte_size(), without_tags + 2 * sizeof(std::string) + 12);
}

// Every variant of /post/5 that the key policies can produce, next to pages of
// /post/50 and /post/5/comments that must survive.
class InvalidateVariantsTest : public ::testing::Test {
 protected:
  struct Variant {
    Request request;
    std::shared_ptr<const CacheKeyPolicy> policy;
  };

  void SetUp() override {
    const std::vector<std::string_view> users = {"alice", "bob"};
    for (const std::string_view path : {"/post/5", "/post/50", "/post/5/comments"}) {
      std::vector<Variant>& variants = path == "/post/5" ? target_ : others_;
      variants.push_back({{.path = path}, audience_});
      variants.push_back({{.path = path, .viewer = Viewer::signed_in("carol")}, audience_});
      variants.push_back({{.path = path, .query = "page=2"}, audience_});
      variants.push_back({{.path = path, .query = "page=3&sort=new"}, audience_});
      for (const std::string_view user : users) {
        variants.push_back({{.path = path, .viewer = Viewer::signed_in(user)}, per_user_});
      }
      variants.push_back({{.path = path, .viewer = Viewer::signed_in("dave", "staff")}, per_role_});
      variants.push_back({{.path = path, .viewer = Viewer::signed_in("erin", "student")}, per_role_});
      variants.push_back({{.path = path, .vary = english_}, per_locale_});
      variants.push_back({{.path = path, .vary = german_}, per_locale_});
    }

    for (const auto* variants : {&target_, &others_}) {
      for (const Variant& variant : *variants) {
        const CacheResult result = cache_.cached(variant.request, options_for(variant),
                                                 [] { return Page{.body = "post"}; });
        ASSERT_EQ(result.outcome, CacheOutcome::miss_stored) << variant.request.path;
      }
    }
  }

  static CacheOptions options_for(const Variant& variant) {
    return {.ttl = seconds{60}, .key_policy = variant.policy};
  }

  bool is_stored(const Variant& variant) {
    const std::optional<std::string> key = variant.policy->key(variant.request);
    return key.has_value() && static_cast<bool>(store_->get(*key));
  }

  const VaryValue english_[1] = {{"locale", "en"}};
  const VaryValue german_[1] = {{"locale", "de"}};

  std::shared_ptr<MemoryStore> store_ =
      std::make_shared<MemoryStore>(MemoryStore::Options{.shards = 16, .hash_seed = 7});
  PageCache cache_{store_};
  std::shared_ptr<const CacheKeyPolicy> audience_ = std::make_shared<const AuthAwareKeyPolicy>();
  std::shared_ptr<const CacheKeyPolicy> per_user_ = std::make_shared<const AuthAwareKeyPolicy>(
      AuthAwareKeyPolicy::Options{.vary_by = VariantScope::user,
                                  .user_secret = std::string{test_secret}});
  std::shared_ptr<const CacheKeyPolicy> per_role_ = std::make_shared<const AuthAwareKeyPolicy>(
      AuthAwareKeyPolicy::Options{.vary_by = VariantScope::role});
  std::shared_ptr<const CacheKeyPolicy> per_locale_ = std::make_shared<const AuthAwareKeyPolicy>(
      AuthAwareKeyPolicy::Options{.vary = {"locale"}});
  std::vector<Variant> target_;
  std::vector<Variant> others_;
};

TEST_F(InvalidateVariantsTest, DropsEveryVariantAndNothingElse) {
  ASSERT_EQ(store_->stats().entries, target_.size() + others_.size());

  EXPECT_EQ(cache_.invalidate_variants({.path = "/post/5"}), target_.size());

  for (const Variant& variant : target_) {
    EXPECT_FALSE(is_stored(variant)) << variant.request.path << "?" << variant.request.query;
  }
  for (const Variant& variant : others_) {
    EXPECT_TRUE(is_stored(variant)) << variant.request.path << "?" << variant.request.query;
  }
  EXPECT_EQ(store_->stats().invalidated, target_.size());
}

TEST_F(InvalidateVariantsTest, ViewerAndQueryOfArgumentDoNotMatter) {
  const Request request{.path = "/post/5", .query = "x=1", .viewer = Viewer::signed_in("zoe")};
  EXPECT_EQ(cache_.invalidate_variants(request, {.key_policy = per_user_}), target_.size());
  EXPECT_EQ(cache_.invalidate_variants(request), 0U);
}

TEST_F(InvalidateVariantsTest, NextRequestRendersAgain) {
  cache_.invalidate_variants({.path = "/post/5"});
  for (const Variant& variant : target_) {
    const CacheResult result = cache_.cached(variant.request, options_for(variant),
                                             [] { return Page{.body = "edited"}; });
    EXPECT_EQ(result.outcome, CacheOutcome::miss_stored);
    EXPECT_EQ(result.page->body, "edited");
  }
  for (const Variant& variant : others_) {
    const CacheResult result = cache_.cached(variant.request, options_for(variant),
                                             [] { return Page{.body = "edited"}; });
    EXPECT_TRUE(result.hit());
  }
}

TEST_F(InvalidateVariantsTest, ByRequestDropsOneVariant) {
  EXPECT_TRUE(cache_.invalidate(target_[0].request, options_for(target_[0])));
  EXPECT_FALSE(is_stored(target_[0]));
  EXPECT_TRUE(is_stored(target_[1]));
}

TEST_F(InvalidateVariantsTest, ClearDropsEverything) {
  cache_.clear();
  EXPECT_EQ(store_->stats().entries, 0U);
  EXPECT_EQ(cache_.invalidate_variants({.path = "/post/50"}), 0U);
}

TEST(PageCacheInvalidation, InvalidPathRemovesNothing) {
  PageCache cache{std::make_shared<MemoryStore>()};
  EXPECT_EQ(cache.invalidate_variants({.path = "/a#b"}), 0U);
}

TEST(PageCacheInvalidation, PolicyWithoutFamiliesThrows) {
  PageCache cache{std::make_shared<MemoryStore>(), std::make_shared<const PathOnlyPolicy>()};
  const CacheResult result =
      cache.cached({.path = "/a"}, {}, [] { return Page{.body = "a"}; });
  EXPECT_EQ(result.outcome, CacheOutcome::miss_stored);
  EXPECT_THROW(cache.invalidate_variants({.path = "/a"}), std::logic_error);
}

TEST(PageCacheInvalidation, TagDropsTaggedPages) {
  auto store = std::make_shared<MemoryStore>(MemoryStore::Options{.shards = 8});
  PageCache cache{store};
  const auto render_tagged = [](std::vector<std::string> tags) {
    return [tags = std::move(tags)] { return Page{.body = "x", .tags = tags}; };
  };
  cache.cached({.path = "/course/1"}, {}, render_tagged({"course:1"}));
  cache.cached({.path = "/course/1", .viewer = Viewer::signed_in("a")}, {},
               render_tagged({"course:1"}));
  cache.cached({.path = "/home"}, {}, render_tagged({"course:1", "course:2"}));
  cache.cached({.path = "/course/2"}, {}, render_tagged({"course:2"}));
  cache.cached({.path = "/about"}, {}, render_tagged({}));

  EXPECT_EQ(cache.invalidate_tag("course:1"), 3U);
  EXPECT_EQ(store->stats().entries, 2U);
  EXPECT_TRUE(cache.cached({.path = "/course/2"}, {}, render_tagged({})).hit());
  EXPECT_TRUE(cache.cached({.path = "/about"}, {}, render_tagged({})).hit());
  EXPECT_FALSE(cache.cached({.path = "/home"}, {}, render_tagged({"course:2"})).hit());
  EXPECT_EQ(cache.invalidate_tag("course:1"), 0U);
}

TEST(PageCacheInvalidation, RenderDuringInvalidationIsNotKept) {
  auto store = std::make_shared<MemoryStore>();
  PageCache cache{store};

  // The render itself runs an invalidation, as another thread editing the
  // data it reads would.
  const CacheResult result = cache.cached({.path = "/course/1"}, {}, [&] {
    cache.invalidate_tag("course:1");
    return Page{.body = "old title", .tags = {"course:1"}};
  });

  EXPECT_EQ(result.outcome, CacheOutcome::miss_not_stored);
  EXPECT_EQ(result.decision, StoreDecision::invalidated);
  EXPECT_EQ(result.page->body, "old title");
  EXPECT_EQ(store->stats().entries, 0U);
  EXPECT_EQ(result.cache_status(), "viewcache; fwd=miss; fwd-status=200; detail=invalidated");
}

class MemoryStoreIndexTest : public ::testing::Test {
 protected:
  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
};

TEST_F(MemoryStoreIndexTest, TagDropsExactlyTaggedAcrossShards) {
  MemoryStore store{{.shards = 16, .clock = clock_, .hash_seed = 3}};
  std::map<std::string, std::vector<std::string>> tags_of;
  for (int i = 0; i < 400; ++i) {
    std::vector<std::string> tags = {"mod3:" + std::to_string(i % 3),
                                     "mod5:" + std::to_string(i % 5)};
    const std::string key = "key-" + std::to_string(i);
    ASSERT_TRUE(store.put(key, page_with_tags("x", tags), seconds{60},
                          {.tags = tags}));
    tags_of[key] = tags;
  }

  EXPECT_EQ(store.erase_tag("mod3:0"), 134U);  // 0, 3, ..., 399
  EXPECT_EQ(store.erase_tag("mod5:0"), 53U);   // multiples of 5 that are not of 15
  for (const auto& [key, tags] : tags_of) {
    const int number = std::stoi(key.substr(4));
    const bool dropped = number % 3 == 0 || number % 5 == 0;
    EXPECT_EQ(static_cast<bool>(store.get(key)), !dropped) << key;
  }
  EXPECT_EQ(store.stats().invalidated, 187U);
  EXPECT_EQ(store.stats().entries, 213U);
}

TEST_F(MemoryStoreIndexTest, RepeatedTagCountsOnce) {
  MemoryStore store{{.clock = clock_}};
  const std::vector<std::string> tags = {"a", "a", "", "b"};
  ASSERT_TRUE(store.put("k", page_with_tags("x", {}), seconds{60}, {.tags = tags}));
  EXPECT_EQ(store.erase_tag(""), 0U);
  EXPECT_EQ(store.erase_tag("a"), 1U);
  EXPECT_EQ(store.erase_tag("b"), 0U);
  EXPECT_EQ(store.stats().entries, 0U);
}

TEST_F(MemoryStoreIndexTest, ReplacementLeavesOldIndexes) {
  MemoryStore store{{.clock = clock_}};
  const std::vector<std::string> old_tags = {"old"};
  const std::vector<std::string> new_tags = {"new"};
  ASSERT_TRUE(store.put("k", page_with_tags("1", {}), seconds{60},
                        {.family = "f-old", .tags = old_tags}));
  ASSERT_TRUE(store.put("k", page_with_tags("2", {}), seconds{60},
                        {.family = "f-new", .tags = new_tags}));

  EXPECT_EQ(store.erase_tag("old"), 0U);
  EXPECT_EQ(store.erase_family("f-old"), 0U);
  EXPECT_TRUE(static_cast<bool>(store.get("k")));
  EXPECT_EQ(store.erase_family("f-new"), 1U);
  EXPECT_EQ(store.erase_tag("new"), 0U);
}

TEST_F(MemoryStoreIndexTest, IndexBytesAreCharged) {
  MemoryStore store{{.clock = clock_}};
  const auto page = page_with_tags("body", {});
  const std::vector<std::string> tags = {"t1", "t22"};
  ASSERT_TRUE(store.put("k", page, seconds{60}, {.family = "fam", .tags = tags}));
  const std::size_t with_indexes =
      store.charge("k", *page, {.family = "fam", .tags = tags});
  EXPECT_EQ(store.stats().bytes, with_indexes);

  // The family and tags add their names, an index node each, and the tag
  // links' heap block.
  const std::size_t without_indexes = store.charge("k", *page);
  EXPECT_GE(with_indexes - without_indexes, 3 * MemoryStore::index_overhead + 3 + 2 + 3);
}

// Fills a small store far beyond its budget and lets a third of the entries
// expire, then checks that every invalidation count matches the entries
// still present. Run under AddressSanitizer, a dangling index entry crashes.
TEST_F(MemoryStoreIndexTest, StaysConsistentUnderEvictionAndExpiry) {
  MemoryStore store{{.max_bytes = 64 * 1024, .shards = 4, .clock = clock_,
                     .hash_seed = 11, .expected_page_bytes = 256}};
  constexpr std::size_t entry_count = 3000;
  constexpr std::size_t family_count = 40;
  constexpr std::size_t tag_count = 7;
  std::mt19937 random(5);
  std::vector<std::size_t> family_of_key(entry_count);
  std::vector<std::size_t> tag_of_key(entry_count);

  for (std::size_t i = 0; i < entry_count; ++i) {
    family_of_key[i] = random() % family_count;
    tag_of_key[i] = random() % tag_count;
    const std::vector<std::string> tags = {"tag" + std::to_string(tag_of_key[i])};
    const std::string family = "family" + std::to_string(family_of_key[i]);
    const milliseconds ttl = i % 3 == 0 ? milliseconds{500} : milliseconds{60'000};
    store.put("key" + std::to_string(i), page_with_tags(std::string(200, 'x'), tags), ttl,
              {.family = family, .tags = tags});
    if (i % 100 == 99) {
      clock_->advance(milliseconds{20});
      (void)store.get("key" + std::to_string(i - 50));
    }
  }
  clock_->advance(seconds{1});

  const MemoryStore::Stats filled = store.stats();
  ASSERT_GT(filled.evicted_capacity, 0U);

  // get() removes expired entries, so after this pass present[i] is exactly
  // what the store holds.
  std::vector<bool> present(entry_count);
  for (std::size_t i = 0; i < entry_count; ++i) {
    present[i] = static_cast<bool>(store.get("key" + std::to_string(i)));
  }
  ASSERT_GT(store.stats().evicted_expired, 0U);

  for (std::size_t family = 0; family < family_count; family += 2) {
    std::size_t expected = 0;
    for (std::size_t i = 0; i < entry_count; ++i) {
      if (present[i] && family_of_key[i] == family) {
        present[i] = false;
        ++expected;
      }
    }
    EXPECT_EQ(store.erase_family("family" + std::to_string(family)), expected) << family;
  }
  for (std::size_t tag = 0; tag < tag_count; ++tag) {
    std::size_t expected = 0;
    for (std::size_t i = 0; i < entry_count; ++i) {
      if (present[i] && tag_of_key[i] == tag) {
        present[i] = false;
        ++expected;
      }
    }
    EXPECT_EQ(store.erase_tag("tag" + std::to_string(tag)), expected) << tag;
  }
  EXPECT_EQ(store.stats().entries, 0U);
  EXPECT_EQ(store.stats().bytes, 0U);
}

// Threads put, get and invalidate at once; meant for ThreadSanitizer. Every
// page has one of a few tags, so removing each tag afterwards must empty the
// store if the indexes stayed consistent.
TEST_F(MemoryStoreIndexTest, ConcurrentPutGetInvalidate) {
  auto store = std::make_shared<MemoryStore>(
      MemoryStore::Options{.max_bytes = 256 * 1024, .shards = 8, .clock = clock_});
  PageCache cache{store};
  constexpr int tag_count = 4;
  constexpr int path_count = 64;
  std::atomic<bool> stop{false};

  const auto browse = [&](unsigned seed) {
    std::mt19937 random(seed);
    for (int i = 0; i < 3000; ++i) {
      const std::string path = "/p/" + std::to_string(random() % path_count);
      const std::string query = "q=" + std::to_string(random() % 4);
      const Request request{.path = path,
                            .query = query,
                            .viewer = random() % 2 == 0 ? Viewer::anonymous()
                                                        : Viewer::signed_in("u")};
      const CacheResult result = cache.cached(request, {.ttl = seconds{60}}, [&] {
        return Page{.body = path, .tags = {"t" + std::to_string(random() % tag_count)}};
      });
      EXPECT_EQ(result.page->body, path);
    }
  };
  const auto invalidate = [&] {
    std::mt19937 random(99);
    while (!stop.load()) {
      switch (random() % 4) {
        case 0:
          cache.invalidate_tag("t" + std::to_string(random() % tag_count));
          break;
        case 1:
        case 2: {
          const std::string path = "/p/" + std::to_string(random() % path_count);
          cache.invalidate_variants({.path = path});
          break;
        }
        default:
          clock_->advance(milliseconds{1});
          break;
      }
    }
  };

  std::vector<std::thread> browsers;
  for (unsigned seed = 1; seed <= 3; ++seed) {
    browsers.emplace_back(browse, seed);
  }
  std::thread invalidator(invalidate);
  for (std::thread& browser : browsers) {
    browser.join();
  }
  stop = true;
  invalidator.join();

  for (int tag = 0; tag < tag_count; ++tag) {
    cache.invalidate_tag("t" + std::to_string(tag));
  }
  EXPECT_EQ(store->stats().entries, 0U);
  EXPECT_EQ(store->stats().bytes, 0U);
}

}  // namespace
}  // namespace viewcache
