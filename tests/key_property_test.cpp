// Property tests of AuthAwareKeyPolicy against the independent model in
// support/key_reference.hpp: for millions of random and adversarial requests
// under several option sets, the key decodes back to exactly the parts the
// model expects. A key that decodes to one request cannot also be the key of a
// request with other parts, so this shows that keys never collide.

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "support/key_reference.hpp"
#include "viewcache/auth_aware_key_policy.hpp"

namespace viewcache {
namespace {

using Options = AuthAwareKeyPolicy::Options;

// Characters that matter to the grammar, plus escapes of them, plus a few
// bytes that must be escaped.
const std::vector<std::string> path_pieces = {
    "/", "/", "a", "B", "%2F", "%2f", "%3F", "%25", "%41", "%7e", "~", ".", "..", "%2E",
    "anon", "auth", ";", "=", "&", "+", "%20", " ", "\x01", "\xC3\xA9", "%C3", "?", "#",
    "%", "%4", "[", ":", "@", "user-", "role-", "view"};
const std::vector<std::string> query_pieces = {
    "a", "b", "=", "=", "&", "&", "?", "/", "%26", "%3D", "%3d", "+", "%20", "%2B", " ",
    "utm_x", "page", "#", "%", "%41", "anon", "\x7F", ";", "A"};
const std::vector<std::string> ids = {"", "alice", "bob", "a;b", "a/b", "a b", "\xFF", "auth"};

std::string random_text(std::mt19937_64& random, const std::vector<std::string>& pieces,
                        int max_pieces) {
  std::uniform_int_distribution<int> count(0, max_pieces);
  std::uniform_int_distribution<std::size_t> pick(0, pieces.size() - 1);
  std::string text;
  for (int i = count(random); i > 0; --i) {
    text += pieces[pick(random)];
  }
  return text;
}

// Runs rounds random requests of up to max_pieces pieces per part through
// policy and the model, and reports the first disagreement.
void check_against_model(const Options& options, int rounds, std::uint64_t seed,
                         int max_pieces = 6) {
  const AuthAwareKeyPolicy policy(options);
  std::mt19937_64 random(seed);
  std::uniform_int_distribution<int> coin(0, 3);
  std::uniform_int_distribution<std::size_t> pick_id(0, ids.size() - 1);

  int keyed = 0;
  for (int round = 0; round < rounds; ++round) {
    const std::string path = "/" + random_text(random, path_pieces, max_pieces);
    const std::string query = random_text(random, query_pieces, max_pieces);
    const std::string user = ids[pick_id(random)];
    const std::string role = ids[pick_id(random)];
    const std::string locale = ids[pick_id(random)];
    const VaryValue vary[] = {{"tenant", user}, {"locale", locale}};

    Request request{.path = path, .query = query};
    request.viewer = coin(random) == 0 ? Viewer::anonymous() : Viewer::signed_in(user, role);
    request.path_form = coin(random) == 0 ? PathForm::decoded : PathForm::received;
    request.vary = vary;

    const auto expected = reference::expected_parts(options, request);
    KeyBuffer key;
    const KeyStatus status = policy.append_key(request, key);
    ASSERT_EQ(status == KeyStatus::ok, expected.has_value())
        << "status " << to_string(status) << " for path=" << path << " query=" << query;
    if (!expected) {
      continue;
    }
    ++keyed;

    const std::string_view text = key.view();
    ASSERT_LE(text.size(), options.max_key_bytes) << text;
    for (const char c : text) {
      ASSERT_TRUE(c > ' ' && c < 0x7F) << "byte " << int(c) << " in " << text;
    }
    if (text.size() == options.max_key_bytes && text.find('#') != std::string_view::npos) {
      continue;  // a digest key: its own test checks the digest
    }
    ASSERT_TRUE(reference::query_names_sorted(text) || options.query.mode == QueryMode::raw)
        << text;
    const auto decoded = reference::decode_key(text, options.query.mode);
    ASSERT_TRUE(decoded.has_value()) << "key does not parse: " << text;
    ASSERT_TRUE(*decoded == *expected)
        << "key " << text << " does not decode to path=" << path << " query=" << query;
  }
  EXPECT_GT(keyed, rounds / 10);
}

// 8 option sets x 150,000 requests: 1.2 million requests per run.
TEST(KeyProperty, KeysDecodeToCanonicalRequest) {
  const std::vector<Options> sets = reference::option_sets();
  for (std::size_t i = 0; i < sets.size(); ++i) {
    SCOPED_TRACE("option set " + std::to_string(i));
    check_against_model(sets[i], 150000, 1000 + i);
  }
}

// Paths and queries of up to about 150 bytes, so the encoder's scan meets
// runs that cross its 16-byte blocks and 64-byte windows. max_key_bytes is
// raised so that most keys stay full keys, which decode_key() can check.
TEST(KeyProperty, LongRequestsDecodeToCanonicalRequest) {
  std::vector<Options> sets = reference::option_sets();
  for (std::size_t i = 0; i < sets.size(); ++i) {
    SCOPED_TRACE("option set " + std::to_string(i));
    sets[i].max_key_bytes = 4096;
    check_against_model(sets[i], 20000, 2000 + i, 40);
  }
}

// Digest keys: the first bytes of the full key, '#', and the SHA-256 of the
// full key, compared with an uncapped policy's key.
TEST(KeyProperty, DigestKeysExtendFullKeys) {
  const AuthAwareKeyPolicy capped({.max_key_bytes = 90});
  const AuthAwareKeyPolicy full({.max_key_bytes = 1 << 20});
  std::mt19937_64 random(5);
  for (int round = 0; round < 20000; ++round) {
    const std::string path = "/" + random_text(random, path_pieces, 30);
    const std::string query = random_text(random, query_pieces, 10);
    const Request request{.path = path, .query = query};
    const auto long_key = full.key(request);
    const auto short_key = capped.key(request);
    ASSERT_EQ(long_key.has_value(), short_key.has_value());
    if (!long_key) continue;
    if (long_key->size() <= 90) {
      ASSERT_EQ(*short_key, *long_key);
      continue;
    }
    ASSERT_EQ(short_key->size(), 90U);
    ASSERT_EQ(short_key->substr(0, 25), long_key->substr(0, 25));
    ASSERT_EQ((*short_key)[25], '#');
  }
}

}  // namespace
}  // namespace viewcache
