#include <gtest/gtest.h>

#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "viewcache/auth_aware_key_policy.hpp"

namespace viewcache {
namespace {

std::string key_of(const CacheKeyPolicy& policy, const Request& request) {
  std::string key;
  const KeyStatus status = policy.append_key(request, key);
  EXPECT_EQ(status, KeyStatus::ok) << "path=" << request.path << " query=" << request.query;
  return key;
}

Request get(std::string_view path, std::string_view query, Viewer viewer) {
  return Request{.method = "GET", .path = path, .query = query, .viewer = viewer};
}

TEST(AuthAwareKeyPolicy, DesignKeys) {
  const AuthAwareKeyPolicy policy;
  EXPECT_EQ(key_of(policy, get("/home", "", Viewer::anonymous())), "view//home/anon");
  EXPECT_EQ(key_of(policy, get("/home", "", Viewer::signed_in("alice"))), "view//home/auth");
  EXPECT_EQ(key_of(policy, get("/course/explore", "page=2", Viewer::anonymous())),
            "view//course/explore/anon?page=2");
  EXPECT_EQ(key_of(policy, get("/course/explore", "page=2", Viewer::signed_in("alice"))),
            "view//course/explore/auth?page=2");
}

TEST(AuthAwareKeyPolicy, AudiencesGetDifferentKeys) {
  const AuthAwareKeyPolicy policy;
  for (const auto* path : {"/", "/home", "/course/explore", "/page/a/b"}) {
    EXPECT_NE(key_of(policy, get(path, "", Viewer::anonymous())),
              key_of(policy, get(path, "", Viewer::signed_in("alice"))))
        << path;
  }
}

TEST(AuthAwareKeyPolicy, SignedInUsersShareAudienceKey) {
  const AuthAwareKeyPolicy policy;
  EXPECT_EQ(key_of(policy, get("/home", "", Viewer::signed_in("alice"))),
            key_of(policy, get("/home", "", Viewer::signed_in("bob"))));
}

TEST(AuthAwareKeyPolicy, QueryIsPartOfKey) {
  const AuthAwareKeyPolicy policy;
  const std::string page1 = key_of(policy, get("/course/explore", "page=1", Viewer::anonymous()));
  const std::string page2 = key_of(policy, get("/course/explore", "page=2", Viewer::anonymous()));
  EXPECT_NE(page1, page2);
  EXPECT_NE(page1.find("page=1"), std::string::npos);
}

TEST(AuthAwareKeyPolicy, EmptyQueryIsNoQuery) {
  const AuthAwareKeyPolicy policy;
  EXPECT_EQ(key_of(policy, get("/home", "", Viewer::anonymous())), "view//home/anon");
}

TEST(AuthAwareKeyPolicy, MethodDoesNotChangeKey) {
  const AuthAwareKeyPolicy policy;
  Request head = get("/home", "", Viewer::anonymous());
  head.method = "HEAD";
  EXPECT_EQ(key_of(policy, head), "view//home/anon");
}

TEST(AuthAwareKeyPolicy, AdversarialRequestsGetDistinctKeys) {
  const AuthAwareKeyPolicy policy;
  const std::vector<Request> requests = {
      get("/home", "", Viewer::anonymous()),
      get("/home", "", Viewer::signed_in("u")),
      get("/home/anon", "", Viewer::anonymous()),
      get("/home/anon", "", Viewer::signed_in("u")),
      get("/home/auth", "", Viewer::anonymous()),
      get("/home/auth", "", Viewer::signed_in("u")),
      get("/home/", "", Viewer::anonymous()),
      get("/home/anon/", "", Viewer::anonymous()),
      get("", "", Viewer::anonymous()),
      get("/", "", Viewer::anonymous()),
      get("//", "", Viewer::anonymous()),
      get("/a/b", "", Viewer::anonymous()),
      get("/a%2Fb", "", Viewer::anonymous()),
      get("/a%3Fb", "", Viewer::anonymous()),
      get("/a", "b", Viewer::anonymous()),
      get("/a", "?b", Viewer::anonymous()),
      get("/a%3F", "b", Viewer::anonymous()),
      get("/a%25", "", Viewer::anonymous()),
      get("/a%2525", "", Viewer::anonymous()),
      get("/a", "x=1/anon", Viewer::anonymous()),
      get("/a", "x=1/auth", Viewer::anonymous()),
      get("/a", "x=%2F", Viewer::anonymous()),
      get("/a", "x=/", Viewer::anonymous()),
      get("/a", "x=%3F", Viewer::anonymous()),
      get("/a", "x=?", Viewer::anonymous()),
      get("/a", "x=%26y=1", Viewer::anonymous()),
      get("/a", "x=&y=1", Viewer::anonymous()),
      get("/anon", "", Viewer::anonymous()),
      get("/auth", "", Viewer::anonymous()),
  };

  std::unordered_map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto [position, inserted] = seen.emplace(key_of(policy, requests[i]), i);
    EXPECT_TRUE(inserted) << "request " << i << " (" << requests[i].path << "?"
                          << requests[i].query << ") shares key " << position->first
                          << " with request " << position->second;
  }
}

TEST(AuthAwareKeyPolicy, ReservedEscapesStayEncoded) {
  const AuthAwareKeyPolicy policy;
  EXPECT_EQ(key_of(policy, get("/a%2fb", "", Viewer::anonymous())), "view//a%2Fb/anon");
  EXPECT_EQ(key_of(policy, get("/a%3fb", "", Viewer::anonymous())), "view//a%3Fb/anon");
}

TEST(AuthAwareKeyPolicy, UnreservedEscapesAreDecoded) {
  const AuthAwareKeyPolicy policy;
  EXPECT_EQ(key_of(policy, get("/%7Euser/%41", "", Viewer::anonymous())), "view//~user/A/anon");
}

TEST(AuthAwareKeyPolicy, UnsafeBytesAreEscaped) {
  const AuthAwareKeyPolicy policy;
  const std::string path{"/a b\r\n\0\x7F\xC3\xA9", 10};
  EXPECT_EQ(key_of(policy, get(path, "q=a b", Viewer::anonymous())),
            "view//a%20b%0D%0A%00%7F%C3%A9/anon?q=a%20b");
}

TEST(AuthAwareKeyPolicy, KeysHaveNoSpaceOrControlBytes) {
  const AuthAwareKeyPolicy policy;
  std::mt19937 random(7);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int round = 0; round < 2000; ++round) {
    std::string path = "/";
    std::string query;
    for (int i = 0; i < 12; ++i) {
      path.push_back(static_cast<char>(byte(random)));
      query.push_back(static_cast<char>(byte(random)));
    }
    std::string key;
    if (policy.append_key(get(path, query, Viewer::anonymous()), key) != KeyStatus::ok) {
      continue;
    }
    for (const char c : key) {
      const auto code = static_cast<unsigned char>(c);
      ASSERT_GT(code, 0x20U) << key;
      ASSERT_LT(code, 0x7FU) << key;
    }
  }
}

TEST(AuthAwareKeyPolicy, RawDelimiterInPathHasNoKey) {
  const AuthAwareKeyPolicy policy;
  std::string key;
  EXPECT_EQ(policy.append_key(get("/a?b", "", Viewer::anonymous()), key), KeyStatus::invalid_path);
  key.clear();
  EXPECT_EQ(policy.append_key(get("/a#b", "", Viewer::anonymous()), key), KeyStatus::invalid_path);
}

TEST(AuthAwareKeyPolicy, MalformedEscapeHasNoKey) {
  const AuthAwareKeyPolicy policy;
  for (const auto* path : {"/a%", "/a%2", "/a%zz", "/%2g"}) {
    std::string key;
    EXPECT_EQ(policy.append_key(get(path, "", Viewer::anonymous()), key), KeyStatus::invalid_path)
        << path;
  }
  for (const auto* query : {"x=%", "x=%4", "x=%G1", "x=1#frag"}) {
    std::string key;
    EXPECT_EQ(policy.append_key(get("/a", query, Viewer::anonymous()), key),
              KeyStatus::invalid_query)
        << query;
  }
}

TEST(AuthAwareKeyPolicy, PerUserKeysHideUserId) {
  const AuthAwareKeyPolicy policy({.vary_by = VariantScope::user, .user_secret = "test-secret"});
  const std::string alice = key_of(policy, get("/dashboard", "", Viewer::signed_in("alice")));
  const std::string bob = key_of(policy, get("/dashboard", "", Viewer::signed_in("bob")));

  EXPECT_NE(alice, bob);
  EXPECT_EQ(alice, key_of(policy, get("/dashboard", "", Viewer::signed_in("alice"))));
  EXPECT_EQ(alice.find("alice"), std::string::npos) << alice;
  EXPECT_EQ(alice.rfind("view//dashboard/user-", 0), 0U) << alice;
  EXPECT_EQ(key_of(policy, get("/dashboard", "", Viewer::anonymous())), "view//dashboard/anon");
}

// Pins the digest so that a change to the key format, which orphans every
// entry in a shared store, cannot pass unnoticed. The expected value is the
// first 32 hex digits of `printf alice | openssl dgst -sha256 -hmac test-secret`.
TEST(AuthAwareKeyPolicy, PerUserKeyIsStable) {
  const AuthAwareKeyPolicy policy({.vary_by = VariantScope::user, .user_secret = "test-secret"});
  EXPECT_EQ(key_of(policy, get("/dashboard", "", Viewer::signed_in("alice"))),
            "view//dashboard/user-B5E537E31E1E349F7D13BC6F42A33CDC");
}

TEST(AuthAwareKeyPolicy, PerUserKeyDependsOnSecret) {
  const AuthAwareKeyPolicy first({.vary_by = VariantScope::user, .user_secret = "one"});
  const AuthAwareKeyPolicy second({.vary_by = VariantScope::user, .user_secret = "two"});
  const Request request = get("/dashboard", "", Viewer::signed_in("alice"));
  EXPECT_NE(key_of(first, request), key_of(second, request));
}

TEST(AuthAwareKeyPolicy, PerUserWithoutUserIdHasNoKey) {
  const AuthAwareKeyPolicy policy({.vary_by = VariantScope::user, .user_secret = "s"});
  std::string key;
  EXPECT_EQ(policy.append_key(get("/dashboard", "", Viewer::signed_in()), key),
            KeyStatus::missing_user_id);
}

TEST(AuthAwareKeyPolicy, PerUserWithoutSecretThrows) {
  try {
    const AuthAwareKeyPolicy policy({.vary_by = VariantScope::user});
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string{error.what()}.find("user_secret"), std::string::npos) << error.what();
  }
}

// An independent statement of the equivalence the key encodes (RFC 3986
// section 6.2.2): a percent escape and the raw byte it encodes are the same
// character, except for the reserved characters a component may contain raw,
// whose raw and escaped forms differ. Each element is a byte, plus 256 when it
// is such a raw reserved character.
std::vector<int> reference_form(std::string_view component, std::string_view raw_reserved) {
  std::vector<int> form;
  for (std::size_t i = 0; i < component.size(); ++i) {
    const char c = component[i];
    if (c == '%') {
      form.push_back(std::stoi(std::string{component.substr(i + 1, 2)}, nullptr, 16));
      i += 2;
    } else if (raw_reserved.find(c) != std::string_view::npos) {
      form.push_back(256 + static_cast<unsigned char>(c));
    } else {
      form.push_back(static_cast<unsigned char>(c));
    }
  }
  return form;
}

// Checks, over many random requests made of the characters that matter, that
// two requests share a key exactly when their reference forms are equal.
TEST(AuthAwareKeyPolicy, KeyEqualityMatchesReferenceEquivalence) {
  constexpr std::string_view path_reserved = "!$&'()*+,;=:@/";
  constexpr std::string_view query_reserved = "!$&'()*+,;=:@/?";
  constexpr std::string_view alphabet = "/?%0123fFaAn ~7E&=#\x01\xC3";

  const AuthAwareKeyPolicy policy;
  std::mt19937 random(11);
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  std::uniform_int_distribution<int> length(0, 6);

  using Form = std::pair<std::vector<int>, std::vector<int>>;
  std::map<Form, std::string> key_by_form;
  std::unordered_map<std::string, Form> form_by_key;
  int keyed = 0;

  for (int round = 0; round < 200000; ++round) {
    std::string path = "/";
    std::string query;
    for (int i = length(random); i > 0; --i) path.push_back(alphabet[pick(random)]);
    for (int i = length(random); i > 0; --i) query.push_back(alphabet[pick(random)]);

    std::string key;
    if (policy.append_key(get(path, query, Viewer::anonymous()), key) != KeyStatus::ok) {
      continue;
    }
    ++keyed;
    const Form form{reference_form(path, path_reserved), reference_form(query, query_reserved)};

    const auto [by_form, new_form] = key_by_form.emplace(form, key);
    ASSERT_EQ(by_form->second, key) << "equivalent requests got different keys: " << path << "?"
                                    << query;
    const auto [by_key, new_key] = form_by_key.emplace(key, form);
    ASSERT_TRUE(by_key->second == form) << "different requests share key " << key;
  }
  EXPECT_GT(keyed, 10000);
}

}  // namespace
}  // namespace viewcache
