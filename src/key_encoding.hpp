#pragma once

// Byte-level encoding rules behind AuthAwareKeyPolicy: the canonical
// percent-encoding of path and query components, dot-segment removal, the
// strict encoding of variant values, and glob patterns for parameter names.

#include <array>
#include <string_view>

#include "viewcache/key_buffer.hpp"

namespace viewcache::detail {

// The characters a component may contain raw, and the treatment of the rest.
struct ComponentRules {
  // Bits of char_classes() that are kept as they are.
  unsigned keep_mask = 0;
  // Bits of char_classes() whose raw presence makes the input invalid: a raw
  // delimiter means something else than its escape, so escaping it would
  // merge two different requests.
  unsigned reject_mask = 0;
  // The input is percent-decoded already: '%' is a plain byte to escape.
  bool decoded = false;
  // ASCII letters outside escapes are lowercased.
  bool fold_lower = false;
  // '+' is written as "%20".
  bool plus_is_space = false;
};

// Character classes, as bits of the table char_class() reads.
inline constexpr unsigned unreserved_class = 1U;    // A-Z a-z 0-9 - . _ ~
inline constexpr unsigned sub_delim_class = 2U;     // ! $ & ' ( ) * , ; =
inline constexpr unsigned plus_class = 4U;          // + (a sub-delim with its own bit)
inline constexpr unsigned path_extra_class = 8U;    // : @ /
inline constexpr unsigned question_class = 16U;     // ?
inline constexpr unsigned hash_class = 32U;         // #

inline constexpr unsigned path_keep =
    unreserved_class | sub_delim_class | plus_class | path_extra_class;

constexpr std::array<unsigned char, 256> make_class_table() {
  std::array<unsigned char, 256> table{};
  const auto mark = [&table](std::string_view characters, unsigned char bits) {
    for (const char c : characters) table[static_cast<unsigned char>(c)] = bits;
  };
  mark("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~", unreserved_class);
  mark("!$&'()*,;=", sub_delim_class);
  mark("+", plus_class);
  mark(":@/", path_extra_class);
  mark("?", question_class);
  mark("#", hash_class);
  return table;
}

inline constexpr std::array<unsigned char, 256> class_table = make_class_table();

// Inline because it runs once per byte of every key.
inline unsigned char_class(char c) noexcept { return class_table[static_cast<unsigned char>(c)]; }

// Rules for a path received from the network, for a decoded path, and for a
// query parameter name or value.
constexpr ComponentRules received_path_rules(bool fold_lower) noexcept {
  return {.keep_mask = path_keep,
          .reject_mask = question_class | hash_class,
          .fold_lower = fold_lower};
}

constexpr ComponentRules decoded_path_rules(bool fold_lower) noexcept {
  return {.keep_mask = path_keep, .decoded = true, .fold_lower = fold_lower};
}

constexpr ComponentRules query_rules(bool plus_is_space) noexcept {
  const unsigned keep = path_keep | question_class;
  return {.keep_mask = plus_is_space ? keep & ~plus_class : keep,
          .reject_mask = hash_class,
          .plus_is_space = plus_is_space};
}

// Appends component in canonical form (RFC 3986 section 6.2.2): escapes get
// uppercase hex, escaped unreserved bytes are decoded, bytes that may not
// appear raw are escaped, and reserved bytes kept raw stay distinct from their
// escapes. Returns false, with out partly written, for a malformed escape or a
// rejected raw byte.
[[nodiscard]] bool append_canonical(std::string_view component, const ComponentRules& rules,
                                    KeyBuffer& out);

// Appends value with every byte but the unreserved ones escaped, so the result
// contains no delimiter of the key grammar.
void append_strict(std::string_view value, KeyBuffer& out);

// Appends the uppercase hex digits of bytes.
void append_hex(const unsigned char* bytes, std::size_t count, KeyBuffer& out);

// Removes "." and ".." segments (RFC 3986 section 5.2.4) from out's bytes at
// [begin, out.size()), in place.
void remove_dot_segments(KeyBuffer& out, std::size_t begin);

// Returns an empty string when pattern is a valid glob, else the reason.
[[nodiscard]] std::string_view glob_error(std::string_view pattern) noexcept;

// Matches text against a pattern that glob_error() accepted.
[[nodiscard]] bool glob_match(std::string_view pattern, std::string_view text) noexcept;

}  // namespace viewcache::detail
