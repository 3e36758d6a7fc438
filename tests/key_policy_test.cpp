#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "viewcache/auth_aware_key_policy.hpp"

namespace viewcache {
namespace {

using Options = AuthAwareKeyPolicy::Options;

constexpr std::string_view test_secret = "0123456789abcdef";

Request get(std::string_view path, std::string_view query = {}, Viewer viewer = {}) {
  return Request{.method = "GET", .path = path, .query = query, .viewer = viewer};
}

std::string key_of(const CacheKeyPolicy& policy, const Request& request) {
  KeyBuffer key;
  const KeyStatus status = policy.append_key(request, key);
  EXPECT_EQ(status, KeyStatus::ok) << "path=" << request.path << " query=" << request.query;
  return key.str();
}

KeyStatus status_of(const CacheKeyPolicy& policy, const Request& request) {
  KeyBuffer key;
  return policy.append_key(request, key);
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
  const std::string page1 = key_of(policy, get("/course/explore", "page=1"));
  const std::string page2 = key_of(policy, get("/course/explore", "page=2"));
  EXPECT_NE(page1, page2);
  EXPECT_NE(page1.find("page=1"), std::string::npos);
}

TEST(AuthAwareKeyPolicy, GetAndHeadShareKey) {
  const AuthAwareKeyPolicy policy;
  Request head = get("/home");
  head.method = "HEAD";
  EXPECT_EQ(key_of(policy, head), key_of(policy, get("/home")));
}

TEST(AuthAwareKeyPolicy, AdversarialRequestsGetDistinctKeys) {
  const AuthAwareKeyPolicy policy;
  const Viewer user = Viewer::signed_in("u");
  const std::vector<Request> requests = {
      get("/home"),          get("/home", "", user),   get("/home/anon"),
      get("/home/anon", "", user), get("/home/auth"), get("/home/auth", "", user),
      get("/home/"),         get("/home/anon/"),        get("/"),
      get("//"),             get("/a/b"),               get("/a%2Fb"),
      get("/a%3Fb"),         get("/a", "b"),            get("/a", "?b"),
      get("/a%3F", "b"),     get("/a%25"),              get("/a%2525"),
      get("/a", "x=1/anon"), get("/a", "x=1/auth"),     get("/a", "x=%2F"),
      get("/a", "x=/"),      get("/a", "x=%3F"),        get("/a", "x=?"),
      get("/a", "x=%26y=1"), get("/a", "x=&y=1"),       get("/anon"),
      get("/auth"),          get("/a;b"),               get("/a", "x%3D1"),
      get("/a", "x=1"),      get("/a", "x"),            get("/a", "x="),
      get("/a#", "", Viewer::anonymous()),
  };

  std::unordered_map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    KeyBuffer key;
    if (policy.append_key(requests[i], key) != KeyStatus::ok) {
      continue;
    }
    const auto [position, inserted] = seen.emplace(key.str(), i);
    EXPECT_TRUE(inserted) << "request " << i << " (" << requests[i].path << "?"
                          << requests[i].query << ") shares key " << position->first
                          << " with request " << position->second;
  }
  EXPECT_GE(seen.size(), requests.size() - 1);
}

TEST(AuthAwareKeyPolicy, EquivalentRequestsShareKey) {
  const AuthAwareKeyPolicy policy;
  EXPECT_EQ(key_of(policy, get("/%7Euser")), key_of(policy, get("/~user")));
  EXPECT_EQ(key_of(policy, get("/a%2fb")), key_of(policy, get("/a%2Fb")));
  EXPECT_EQ(key_of(policy, get("/a b")), key_of(policy, get("/a%20b")));
  EXPECT_EQ(key_of(policy, get("/s", "x=1&y=2")), key_of(policy, get("/s", "y=2&x=1")));
  EXPECT_EQ(key_of(policy, get("")), key_of(policy, get("/")));
}

TEST(AuthAwareKeyPolicy, RepeatedNamesKeepValueOrder) {
  const AuthAwareKeyPolicy policy;
  EXPECT_NE(key_of(policy, get("/s", "tag=a&tag=b")), key_of(policy, get("/s", "tag=b&tag=a")));
  EXPECT_EQ(key_of(policy, get("/s", "tag=b&x=1&tag=a")), "view//s/anon?tag=b&tag=a&x=1");
}

// More than 16 parameters and more than 256 bytes of query: the encoder
// sorts such a query with std::sort and copies it aside on the heap.
TEST(AuthAwareKeyPolicy, LongQueryIsSortedStably) {
  const AuthAwareKeyPolicy policy({.max_key_bytes = 4096});
  std::string query;
  std::string sorted;
  for (int i = 39; i >= 0; --i) {
    const std::string name = "parameter-" + std::to_string(100 + i);
    query += name + "=b&" + name + "=a&";
    sorted = name + "=b&" + name + "=a" + (sorted.empty() ? "" : "&") + sorted;
  }
  ASSERT_GT(query.size(), 256U);
  EXPECT_EQ(key_of(policy, get("/s", query)), "view//s/anon?" + sorted);
}

// Behind a long path, a query with ignore or allow lists is written one
// name and value at a time, so dropped parameters take no space. Both ways
// must give the same key, and neither reads a dropped value.
TEST(AuthAwareKeyPolicy, IgnoredParametersBehindLongPath) {
  const AuthAwareKeyPolicy policy({.query = {.ignore = {"utm_*"}}});
  const std::string query = "utm_source=x&b=2&a=1&utm_medium=%zz&a=0";
  for (const std::string& path : {std::string{"/s"}, "/" + std::string(150, 'p')}) {
    SCOPED_TRACE(path.size());
    EXPECT_EQ(key_of(policy, get(path, query)), "view/" + path + "/anon?a=1&a=0&b=2");
    EXPECT_EQ(key_of(policy, get(path, "utm_a=1&utm_b=2")), "view/" + path + "/anon");
    EXPECT_EQ(status_of(policy, get(path, "b=%zz&utm_a=1")), KeyStatus::invalid_query);
  }
}

TEST(AuthAwareKeyPolicy, UnsafeBytesAreEscaped) {
  const AuthAwareKeyPolicy policy;
  const std::string path{"/a b\r\n\0\x7F\xC3\xA9", 10};
  EXPECT_EQ(key_of(policy, get(path, "q=a b")), "view//a%20b%0D%0A%00%7F%C3%A9/anon?q=a%20b");
}

TEST(AuthAwareKeyPolicy, RawDelimiterInPathHasNoKey) {
  const AuthAwareKeyPolicy policy;
  EXPECT_EQ(status_of(policy, get("/a?b")), KeyStatus::invalid_path);
  EXPECT_EQ(status_of(policy, get("/a#b")), KeyStatus::invalid_path);
}

TEST(AuthAwareKeyPolicy, MalformedEscapeHasNoKey) {
  const AuthAwareKeyPolicy policy;
  for (const auto* path : {"/a%", "/a%2", "/a%zz", "/%2g"}) {
    EXPECT_EQ(status_of(policy, get(path)), KeyStatus::invalid_path) << path;
  }
  for (const auto* query : {"x=%", "x=%4", "x=%G1", "x=1#frag", "%zz=1"}) {
    EXPECT_EQ(status_of(policy, get("/a", query)), KeyStatus::invalid_query) << query;
  }
}

TEST(AuthAwareKeyPolicy, DecodedPathEscapesEverything) {
  const AuthAwareKeyPolicy policy;
  Request decoded = get("/a?b%2F#");
  decoded.path_form = PathForm::decoded;
  EXPECT_EQ(key_of(policy, decoded), "view//a%3Fb%252F%23/anon");
}

TEST(AuthAwareKeyPolicy, PerUserKeysHideUserId) {
  const AuthAwareKeyPolicy policy({.vary_by = VariantScope::user, .user_secret = std::string{test_secret}});
  const std::string alice = key_of(policy, get("/dashboard", "", Viewer::signed_in("alice")));
  const std::string bob = key_of(policy, get("/dashboard", "", Viewer::signed_in("bob")));

  EXPECT_NE(alice, bob);
  EXPECT_EQ(alice, key_of(policy, get("/dashboard", "", Viewer::signed_in("alice"))));
  EXPECT_EQ(alice.find("alice"), std::string::npos) << alice;
  EXPECT_EQ(key_of(policy, get("/dashboard", "", Viewer::anonymous())), "view//dashboard/anon");
}

// Pins the digest so that a change to the key format, which orphans every
// entry in a shared store, cannot pass unnoticed. The expected value is the
// first 32 hex digits of
// `printf alice | openssl dgst -sha256 -hmac 0123456789abcdef`.
TEST(AuthAwareKeyPolicy, GoldenKeys) {
  const AuthAwareKeyPolicy per_user({.vary_by = VariantScope::user, .user_secret = std::string{test_secret}});
  EXPECT_EQ(key_of(per_user, get("/dashboard", "", Viewer::signed_in("alice"))),
            "view//dashboard/user-FDBF8B1CACD3D578E062D0E41104357D");

  // A 64-byte secret fills one SHA-256 block; a longer one is hashed first
  // (RFC 2104). `printf alice | openssl dgst -sha256 -hmac "$(printf 'k%.0s' {1..100})"`.
  const AuthAwareKeyPolicy long_secret({.vary_by = VariantScope::user, .user_secret = std::string(100, 'k')});
  EXPECT_EQ(key_of(long_secret, get("/d", "", Viewer::signed_in("alice"))),
            "view//d/user-BB3371A06E0B7CDBF3413FD51417624E");

  const AuthAwareKeyPolicy capped({.max_key_bytes = 80});
  EXPECT_EQ(key_of(capped, get("/" + std::string(100, 'a'))),
            "view//aaaaaaaaa#E3309D63B4D53BFA25C72CEE23D3F90A79DD6AF0E36C23FA8E3A0F36FF311753");
}

TEST(AuthAwareKeyPolicy, PerUserKeyDependsOnSecret) {
  const AuthAwareKeyPolicy first({.vary_by = VariantScope::user, .user_secret = "secret-one-0123456"});
  const AuthAwareKeyPolicy second({.vary_by = VariantScope::user, .user_secret = "secret-two-0123456"});
  const Request request = get("/dashboard", "", Viewer::signed_in("alice"));
  EXPECT_NE(key_of(first, request), key_of(second, request));
}

TEST(AuthAwareKeyPolicy, MissingViewerPartsHaveNoKey) {
  const AuthAwareKeyPolicy per_user({.vary_by = VariantScope::user, .user_secret = std::string{test_secret}});
  EXPECT_EQ(status_of(per_user, get("/d", "", Viewer::signed_in())), KeyStatus::missing_user_id);

  const AuthAwareKeyPolicy per_role({.vary_by = VariantScope::role});
  EXPECT_EQ(status_of(per_role, get("/d", "", Viewer::signed_in("alice"))), KeyStatus::missing_role);

  const AuthAwareKeyPolicy per_locale({.vary = {"locale"}});
  EXPECT_EQ(status_of(per_locale, get("/d")), KeyStatus::missing_vary_value);
}

TEST(AuthAwareKeyPolicy, RolesAndVaryValuesAreEscaped) {
  const AuthAwareKeyPolicy policy({.vary_by = VariantScope::role, .vary = {"tenant"}});
  const VaryValue tenant[] = {{"tenant", "a;b=c/d?"}};
  Request request = get("/d", "", Viewer::signed_in("alice", "x/y;z"));
  request.vary = tenant;
  EXPECT_EQ(key_of(policy, request), "view//d/role-x%2Fy%3Bz;tenant=a%3Bb%3Dc%2Fd%3F");
}

TEST(AuthAwareKeyPolicy, VaryOrderDoesNotMatter) {
  const AuthAwareKeyPolicy first({.vary = {"locale", "tenant"}});
  const AuthAwareKeyPolicy second({.vary = {"tenant", "locale"}});
  const VaryValue values[] = {{"tenant", "acme"}, {"locale", "en"}, {"unused", "x"}};
  Request request = get("/home");
  request.vary = values;
  EXPECT_EQ(key_of(first, request), "view//home/anon;locale=en;tenant=acme");
  EXPECT_EQ(key_of(second, request), "view//home/anon;locale=en;tenant=acme");
}

TEST(AuthAwareKeyPolicy, LongKeysDifferAfterSharedPrefix) {
  const AuthAwareKeyPolicy policy;
  const std::string shared(300, 'p');
  const std::string first = key_of(policy, get("/" + shared + "/one"));
  const std::string second = key_of(policy, get("/" + shared + "/two"));
  EXPECT_NE(first, second);
  EXPECT_EQ(first.size(), 250U);
  EXPECT_EQ(second.size(), 250U);
  EXPECT_EQ(first.rfind("view//ppp", 0), 0U);
  EXPECT_EQ(first[250 - 65], '#');
}

TEST(AuthAwareKeyPolicy, KeyAtCapIsNotShortened) {
  const AuthAwareKeyPolicy policy({.max_key_bytes = 100});
  // "view//" + path + "/anon" is exactly 100 bytes.
  const std::string key = key_of(policy, get("/" + std::string(89, 'a')));
  EXPECT_EQ(key.size(), 100U);
  EXPECT_EQ(key.find('#'), std::string::npos);
}

TEST(AuthAwareKeyPolicy, KeysHaveNoSpaceOrControlBytes) {
  const AuthAwareKeyPolicy policy;
  std::string path = "/";
  std::string query;
  for (int c = 0; c < 256; ++c) {
    if (c != '%' && c != '?' && c != '#') {
      path.push_back(static_cast<char>(c));
    }
    if (c != '%' && c != '#' && c != '&') {
      query.push_back(static_cast<char>(c));
    }
  }
  const std::string key = key_of(policy, get(path, query));
  for (const char c : key) {
    const auto code = static_cast<unsigned char>(c);
    EXPECT_GT(code, 0x20U) << key;
    EXPECT_LT(code, 0x7FU) << key;
  }
}

void expect_invalid_option(const Options& options, std::string_view expected_text) {
  try {
    const AuthAwareKeyPolicy policy(options);
    ADD_FAILURE() << "expected std::invalid_argument mentioning " << expected_text;
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string_view{error.what()}.find(expected_text), std::string_view::npos)
        << error.what();
  }
}

TEST(AuthAwareKeyPolicyOptions, InvalidOptionsThrow) {
  expect_invalid_option({.vary_by = VariantScope::user}, "user_secret has 0 bytes");
  expect_invalid_option({.vary_by = VariantScope::user, .user_secret = "short"},
                        "user_secret has 5 bytes");
  expect_invalid_option({.max_key_bytes = 69}, "max_key_bytes is 69");
  expect_invalid_option({.query = {.ignore = {"utm_["}}}, "query.ignore pattern \"utm_[\"");
  expect_invalid_option({.query = {.ignore = {""}}}, "the pattern is empty");
  expect_invalid_option({.query = {.allow = std::vector<std::string>{"pa\\"}}},
                        "query.allow pattern");
  expect_invalid_option({.query = {.mode = QueryMode::raw, .ignore = {"utm_*"}}},
                        "QueryMode::raw");
  expect_invalid_option({.vary = {"Locale"}}, "vary name \"Locale\"");
  expect_invalid_option({.vary = {"locale", "locale"}}, "listed twice");
}

// The examples table in docs/key-policy.md, checked row by row.
struct Example {
  int line = 0;
  std::string options;
  std::string viewer;
  std::string request;
  std::string key;
};

std::string strip_cell(std::string cell) {
  while (!cell.empty() && (cell.front() == ' ' || cell.front() == '`')) cell.erase(0, 1);
  while (!cell.empty() && (cell.back() == ' ' || cell.back() == '`')) cell.pop_back();
  return cell;
}

std::vector<Example> read_examples() {
  std::ifstream file(VIEWCACHE_KEY_POLICY_DOC);
  EXPECT_TRUE(file) << "cannot open " << VIEWCACHE_KEY_POLICY_DOC;
  std::vector<Example> examples;
  bool inside = false;
  int line_number = 0;
  for (std::string line; std::getline(file, line);) {
    ++line_number;
    if (line == "<!-- examples:begin -->") { inside = true; continue; }
    if (line == "<!-- examples:end -->") break;
    if (!inside || line.rfind("| ", 0) != 0 || line.rfind("| options", 0) == 0) continue;

    std::vector<std::string> cells;
    std::stringstream stream(line.substr(1));
    for (std::string cell; std::getline(stream, cell, '|');) cells.push_back(strip_cell(cell));
    EXPECT_EQ(cells.size(), 4U) << "line " << line_number << ": " << line;
    if (cells.size() == 4) {
      examples.push_back({line_number, cells[0], cells[1], cells[2], cells[3]});
    }
  }
  return examples;
}

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> result;
  std::stringstream stream(text);
  for (std::string word; stream >> word;) result.push_back(word);
  return result;
}

Options options_from(const std::string& text, bool& decoded_path) {
  Options options;
  for (const std::string& word : words(text)) {
    const std::size_t equals = word.find('=');
    const std::string name = word.substr(0, equals);
    const std::string value = equals == std::string::npos ? "" : word.substr(equals + 1);
    if (word == "default") {
    } else if (word == "decoded_path") {
      decoded_path = true;
    } else if (word == "plus_is_space") {
      options.query.plus_is_space = true;
    } else if (word == "vary_by=user") {
      options.vary_by = VariantScope::user;
      options.user_secret = std::string{test_secret};
    } else if (word == "vary_by=role") {
      options.vary_by = VariantScope::role;
    } else if (name == "vary") {
      options.vary.push_back(value);
    } else if (word == "trailing_slash=strip") {
      options.path.trailing_slash = TrailingSlash::strip;
    } else if (word == "case=fold_lower") {
      options.path.letter_case = PathCase::fold_lower;
    } else if (word == "dot_segments=remove") {
      options.path.remove_dot_segments = true;
    } else if (word == "query=raw") {
      options.query.mode = QueryMode::raw;
    } else if (name == "ignore") {
      options.query.ignore.push_back(value);
    } else if (name == "allow") {
      if (!options.query.allow) options.query.allow.emplace();
      options.query.allow->push_back(value);
    } else if (name == "max_key_bytes") {
      options.max_key_bytes = std::stoul(value);
    } else {
      ADD_FAILURE() << "unknown option in the examples table: " << word;
    }
  }
  return options;
}

TEST(KeyPolicyDoc, ExamplesMatchCode) {
  const std::vector<Example> examples = read_examples();
  ASSERT_GE(examples.size(), 40U);

  for (const Example& example : examples) {
    SCOPED_TRACE("docs/key-policy.md line " + std::to_string(example.line));
    bool decoded_path = false;
    const AuthAwareKeyPolicy policy(options_from(example.options, decoded_path));

    const std::vector<std::string> viewer_words = words(example.viewer);
    ASSERT_FALSE(viewer_words.empty());
    std::string user;
    std::string role;
    std::vector<std::string> vary_text;
    for (std::size_t i = 1; i < viewer_words.size(); ++i) {
      const std::string& word = viewer_words[i];
      if (word.rfind("user=", 0) == 0) user = word.substr(5);
      else if (word.rfind("role=", 0) == 0) role = word.substr(5);
      else if (word.rfind("vary:", 0) == 0) vary_text.push_back(word.substr(5));
      else ADD_FAILURE() << "unknown viewer word " << word;
    }
    std::vector<VaryValue> vary;
    for (const std::string& pair : vary_text) {
      const std::string_view view = pair;
      const std::size_t equals = view.find('=');
      vary.push_back({view.substr(0, equals), view.substr(equals + 1)});
    }

    const std::size_t space = example.request.find(' ');
    const std::string method = example.request.substr(0, space);
    const std::string target = example.request.substr(space + 1);
    const std::size_t question = decoded_path ? std::string::npos : target.find('?');
    const std::string path = target.substr(0, question);
    const std::string query = question == std::string::npos ? "" : target.substr(question + 1);

    Request request{.method = method, .path = path, .query = query};
    request.viewer = viewer_words[0] == "anon" ? Viewer::anonymous() : Viewer::signed_in(user, role);
    request.path_form = decoded_path ? PathForm::decoded : PathForm::received;
    request.vary = vary;

    KeyBuffer key;
    const KeyStatus status = policy.append_key(request, key);
    if (example.key.rfind("none: ", 0) == 0) {
      EXPECT_EQ(to_string(status), example.key.substr(6));
    } else {
      ASSERT_EQ(status, KeyStatus::ok) << to_string(status);
      EXPECT_EQ(key.str(), example.key);
    }
  }
}

}  // namespace
}  // namespace viewcache
