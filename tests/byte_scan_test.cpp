// The block scan of byte_scan.hpp against its bytewise fallback, and the stop
// sets of key_encoding.hpp against the character classes they are built from.

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "byte_scan.hpp"
#include "key_encoding.hpp"

namespace viewcache::detail {
namespace {

const StopSet* const all_sets[] = {&path_stops,
                                   &query_stops,
                                   &query_plus_stops,
                                   &query_split_stops,
                                   &query_plus_split_stops,
                                   &received_path_growing,
                                   &query_growing,
                                   &query_plus_growing};

// Text that mixes kept bytes with every kind of stop byte, so runs of every
// length end at every position of a block.
std::string random_text(std::mt19937_64& random, std::size_t size) {
  static constexpr std::string_view common = "abcXYZ019-._~/:@!$'()*,;";
  std::uniform_int_distribution<int> kind(0, 9);
  std::uniform_int_distribution<int> any_byte(0, 255);
  std::uniform_int_distribution<std::size_t> pick(0, common.size() - 1);
  std::string text;
  for (std::size_t i = 0; i < size; ++i) {
    text += kind(random) == 0 ? static_cast<char>(any_byte(random)) : common[pick(random)];
  }
  return text;
}

TEST(ByteScan, BlockScanMatchesBytewise) {
  std::mt19937_64 random(7);
  for (std::size_t size = 1; size <= 200; ++size) {
    for (int round = 0; round < 20; ++round) {
      const std::string text = random_text(random, size);
      for (const StopSet* set : all_sets) {
        for (std::size_t from = 0; from < size; ++from) {
          ASSERT_EQ(stop_bits(text, from, *set), stop_bits_scalar(text, from, *set))
              << "text \"" << text << "\" from " << from;
        }
      }
    }
  }
}

TEST(ByteScan, FinderReturnsEveryStopInOrder) {
  std::mt19937_64 random(8);
  for (std::size_t size = 0; size <= 300; ++size) {
    const std::string text = random_text(random, size);
    StopFinder finder(text, path_stops);
    for (std::size_t from = 0; from <= size; ++from) {
      std::size_t expected = from;
      while (expected < size && path_stops.contains[static_cast<unsigned char>(text[expected])] == 0) {
        ++expected;
      }
      ASSERT_EQ(finder.next(from), expected) << "text \"" << text << "\" from " << from;
    }
  }
}

TEST(ByteScan, StopSetsMatchCharacterClasses) {
  for (unsigned byte = 0; byte < 256; ++byte) {
    const auto c = static_cast<char>(byte);
    const bool path_keeps = (char_class(c) & path_keep) != 0;
    const bool query_keeps = (char_class(c) & query_keep) != 0;
    const bool delimiter = c == '&' || c == '=';
    EXPECT_EQ(path_stops.contains[byte] == 0, path_keeps) << byte;
    EXPECT_EQ(query_stops.contains[byte] == 0, query_keeps) << byte;
    EXPECT_EQ(query_plus_stops.contains[byte] == 0, query_keeps && c != '+') << byte;
    EXPECT_EQ(query_split_stops.contains[byte] == 0, query_keeps && !delimiter) << byte;
    EXPECT_EQ(query_plus_split_stops.contains[byte] == 0, query_keeps && !delimiter && c != '+')
        << byte;
    EXPECT_EQ(received_path_growing.contains[byte] == 0, path_keeps || c == '%') << byte;
    EXPECT_EQ(query_growing.contains[byte] == 0, query_keeps || c == '%') << byte;
    EXPECT_EQ(query_plus_growing.contains[byte] == 0, (query_keeps && c != '+') || c == '%')
        << byte;
  }
}

}  // namespace
}  // namespace viewcache::detail
