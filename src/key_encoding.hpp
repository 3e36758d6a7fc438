#pragma once

// Byte-level encoding rules behind AuthAwareKeyPolicy: the canonical
// percent-encoding of path and query components, dot-segment removal, the
// strict encoding of variant values, and glob patterns for parameter names.

#include <array>
#include <cstring>
#include <string_view>

#include "ascii.hpp"
#include "byte_scan.hpp"
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
  // Every byte that keep_mask does not keep, so the runs between them are
  // copied whole.
  const StopSet* stops = nullptr;
  // The bytes that are written as a three-byte escape: stops without '%'
  // unless decoded is set. max_canonical_bytes() counts them.
  const StopSet* growing = nullptr;
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

// Builds the set of bytes that a component with keep_mask cannot copy as
// they are, plus the delimiters listed in also_stop, less those in not_stop.
constexpr StopSet make_component_stops(unsigned keep_mask, std::string_view also_stop,
                                       std::string_view not_stop = "") {
  return make_stop_set([keep_mask, also_stop, not_stop](unsigned char byte) {
    const auto c = static_cast<char>(byte);
    if (not_stop.find(c) != std::string_view::npos) {
      return true;
    }
    return (class_table[byte] & keep_mask) != 0 && also_stop.find(c) == std::string_view::npos;
  });
}

inline constexpr unsigned query_keep = path_keep | question_class;

inline constexpr StopSet path_stops = make_component_stops(path_keep, "");
inline constexpr StopSet query_stops = make_component_stops(query_keep, "");
inline constexpr StopSet query_plus_stops = make_component_stops(query_keep & ~plus_class, "");

// The stop sets without '%', which a received component keeps or shortens.
inline constexpr StopSet received_path_growing = make_component_stops(path_keep, "", "%");
inline constexpr StopSet query_growing = make_component_stops(query_keep, "", "%");
inline constexpr StopSet query_plus_growing =
    make_component_stops(query_keep & ~plus_class, "", "%");

// The query stop sets plus '&' and '=', so one scan of a sorted-mode query
// finds its parameters and the bytes to escape.
inline constexpr StopSet query_split_stops = make_component_stops(query_keep, "&=");
inline constexpr StopSet query_plus_split_stops =
    make_component_stops(query_keep & ~plus_class, "&=");

// Rules for a path received from the network, for a decoded path, and for a
// query parameter name or value.
constexpr ComponentRules received_path_rules(bool fold_lower) noexcept {
  return {.keep_mask = path_keep,
          .reject_mask = question_class | hash_class,
          .fold_lower = fold_lower,
          .stops = &path_stops,
          .growing = &received_path_growing};
}

constexpr ComponentRules decoded_path_rules(bool fold_lower) noexcept {
  return {.keep_mask = path_keep,
          .decoded = true,
          .fold_lower = fold_lower,
          .stops = &path_stops,
          .growing = &path_stops};
}

constexpr ComponentRules query_rules(bool plus_is_space) noexcept {
  return {.keep_mask = plus_is_space ? query_keep & ~plus_class : query_keep,
          .reject_mask = hash_class,
          .plus_is_space = plus_is_space,
          .stops = plus_is_space ? &query_plus_stops : &query_stops,
          .growing = plus_is_space ? &query_plus_growing : &query_growing};
}

// Appends component in canonical form (RFC 3986 section 6.2.2): escapes get
// uppercase hex, escaped unreserved bytes are decoded, bytes that may not
// appear raw are escaped, and reserved bytes kept raw stay distinct from their
// escapes. Returns false, with out unchanged, for a malformed escape or a
// rejected raw byte.
[[nodiscard]] bool append_canonical(std::string_view component, const ComponentRules& rules,
                                    KeyBuffer& out);

// Writes component in canonical form, as append_canonical() appends it, to
// out, which has room for max_canonical_bytes(component, rules, ...) bytes.
// Returns the end of what it wrote, or nullptr where append_canonical()
// returns false.
[[nodiscard]] char* write_canonical(std::string_view component, const ComponentRules& rules,
                                    char* out) noexcept;

// Returns the number of bytes of text in rules.growing.
[[nodiscard]] std::size_t count_growing(std::string_view text, const ComponentRules& rules) noexcept;

// Returns a bound on the size of the canonical form of text under rules. Only
// the bytes of rules.growing grow, each to a three-byte escape. The loose bound
// 3 * text.size() is returned without a scan when it is at most room, the
// inline space a KeyBuffer has left. Otherwise those bytes are counted, so
// that a key that fits inline is not moved to the heap by a loose bound.
inline std::size_t max_canonical_bytes(std::string_view text, const ComponentRules& rules,
                                       std::size_t room) noexcept {
  const std::size_t loose = 3 * text.size();
  return loose <= room ? loose : text.size() + 2 * count_growing(text, rules);
}

// Returns the bytes that out can still take without moving to the heap, or 0
// when it is there already.
inline std::size_t inline_room(const KeyBuffer& out) noexcept {
  return out.size() < KeyBuffer::inline_capacity ? KeyBuffer::inline_capacity - out.size() : 0;
}

// Copies count bytes from in to out, which do not overlap. The runs of a key
// are a few bytes long, and a call to memcpy costs more than copying them.
// So up to 64 bytes are copied as fixed-size blocks, which may overlap each
// other but never cross the ends of in or out.
inline void copy_bytes(char* out, const char* in, std::size_t count) noexcept {
  if (count > 64) {
    std::memcpy(out, in, count);
  } else if (count >= 16) {
    for (std::size_t i = 0; i + 16 < count; i += 16) {
      std::memcpy(out + i, in + i, 16);
    }
    std::memcpy(out + count - 16, in + count - 16, 16);
  } else if (count >= 8) {
    std::memcpy(out, in, 8);
    std::memcpy(out + count - 8, in + count - 8, 8);
  } else if (count >= 4) {
    std::memcpy(out, in, 4);
    std::memcpy(out + count - 4, in + count - 4, 4);
  } else {
    for (std::size_t i = 0; i < count; ++i) {
      out[i] = in[i];
    }
  }
}

// Copies text[from, to), bytes that rules keep, to out and returns the end of
// the copy, lowercasing letters when rules.fold_lower is set.
inline char* copy_run(std::string_view text, std::size_t from, std::size_t to,
                      const ComponentRules& rules, char* out) noexcept {
  const std::size_t count = to - from;
  copy_bytes(out, text.data() + from, count);
  if (rules.fold_lower) {
    for (std::size_t i = 0; i < count; ++i) {
      out[i] = to_lower(out[i]);
    }
  }
  return out + count;
}

// Writes the canonical form of the byte at text[at], which rules do not keep,
// to out and advances out past it. Returns the position after what it read (3
// past a '%' escape), or std::string_view::npos for a malformed escape or a
// rejected byte. out must have room for three bytes.
std::size_t encode_stop(std::string_view text, std::size_t at, const ComponentRules& rules,
                        char*& out) noexcept;

// Appends value with every byte but the unreserved ones escaped, so the result
// contains no delimiter of the key grammar.
void append_strict(std::string_view value, KeyBuffer& out);

// Appends the uppercase hex digits of bytes.
void append_hex(const unsigned char* bytes, std::size_t count, KeyBuffer& out);

// Removes "." and ".." segments (RFC 3986 section 5.2.4) from the path at
// bytes[0, size), in place, and returns its new size.
[[nodiscard]] std::size_t remove_dot_segments(char* bytes, std::size_t size) noexcept;

// Returns an empty string when pattern is a valid glob, else the reason.
[[nodiscard]] std::string_view glob_error(std::string_view pattern) noexcept;

// Matches text against a pattern that glob_error() accepted.
[[nodiscard]] bool glob_match(std::string_view pattern, std::string_view text) noexcept;

}  // namespace viewcache::detail
