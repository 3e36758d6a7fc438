#include <fnmatch.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "key_encoding.hpp"

namespace viewcache::detail {
namespace {

TEST(Glob, MatchesParameterNames) {
  EXPECT_TRUE(glob_match("utm_*", "utm_source"));
  EXPECT_TRUE(glob_match("utm_*", "utm_"));
  EXPECT_FALSE(glob_match("utm_*", "xutm_source"));
  EXPECT_TRUE(glob_match("fbclid", "fbclid"));
  EXPECT_FALSE(glob_match("fbclid", "fbclid2"));
  EXPECT_TRUE(glob_match("p?ge", "page"));
  EXPECT_TRUE(glob_match("[a-c]x", "bx"));
  EXPECT_FALSE(glob_match("[!a-c]x", "bx"));
  EXPECT_TRUE(glob_match("\\*", "*"));
  EXPECT_FALSE(glob_match("\\*", "a"));
  EXPECT_TRUE(glob_match("[\\]]", "]"));
}

TEST(Glob, InvalidPatternsAreReported) {
  EXPECT_FALSE(glob_error("").empty());
  EXPECT_FALSE(glob_error("a\\").empty());
  EXPECT_FALSE(glob_error("[abc").empty());
  EXPECT_FALSE(glob_error("[\\]").empty());
  EXPECT_TRUE(glob_error("[]]").empty());
  EXPECT_TRUE(glob_error("utm_*").empty());
}

// Compares with glibc's fnmatch(3) over random patterns and texts built from
// the characters that have a meaning in globs.
TEST(Glob, AgreesWithFnmatch) {
  constexpr std::string_view pattern_alphabet = "ab]-[\\*?!^";
  constexpr std::string_view text_alphabet = "ab]-[\\*?!^";
  std::mt19937 random(17);
  std::uniform_int_distribution<std::size_t> pick_pattern(0, pattern_alphabet.size() - 1);
  std::uniform_int_distribution<std::size_t> pick_text(0, text_alphabet.size() - 1);
  std::uniform_int_distribution<int> length(1, 7);

  int compared = 0;
  for (int round = 0; round < 300000; ++round) {
    std::string pattern;
    std::string text;
    for (int i = length(random); i > 0; --i) pattern.push_back(pattern_alphabet[pick_pattern(random)]);
    for (int i = length(random) - 1; i > 0; --i) text.push_back(text_alphabet[pick_text(random)]);
    if (!glob_error(pattern).empty()) {
      continue;
    }
    ++compared;
    const bool expected = fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
    ASSERT_EQ(glob_match(pattern, text), expected) << "pattern " << pattern << " text " << text;
  }
  EXPECT_GT(compared, 50000);
}

}  // namespace
}  // namespace viewcache::detail
