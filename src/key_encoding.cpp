#include "key_encoding.hpp"

#include <bit>
#include <cstring>

#include "ascii.hpp"

namespace viewcache::detail {
namespace {

void append_escape(unsigned char byte, KeyBuffer& out) {
  const char escape[3] = {'%', hex_digit_upper(byte >> 4U), hex_digit_upper(byte)};
  out.append({escape, 3});
}

char* write_escape(unsigned char byte, char* out) noexcept {
  out[0] = '%';
  out[1] = hex_digit_upper(byte >> 4U);
  out[2] = hex_digit_upper(byte);
  return out + 3;
}

}  // namespace

std::size_t encode_stop(std::string_view text, std::size_t at, const ComponentRules& rules,
                        char*& out) noexcept {
  const char c = text[at];
  if (c == '%' && !rules.decoded) {
    if (text.size() - at < 3 || !is_hex_digit(text[at + 1]) || !is_hex_digit(text[at + 2])) {
      return std::string_view::npos;
    }
    const auto byte =
        static_cast<unsigned char>(hex_value(text[at + 1]) * 16 + hex_value(text[at + 2]));
    if ((char_class(static_cast<char>(byte)) & unreserved_class) != 0) {
      const char decoded = static_cast<char>(byte);
      *out++ = rules.fold_lower ? to_lower(decoded) : decoded;
    } else {
      out = write_escape(byte, out);
    }
    return at + 3;
  }
  if ((char_class(c) & rules.reject_mask) != 0) {
    return std::string_view::npos;
  }
  if (c == '+' && rules.plus_is_space) {
    std::memcpy(out, "%20", 3);
    out += 3;
  } else {
    out = write_escape(static_cast<unsigned char>(c), out);
  }
  return at + 1;
}

char* write_canonical(std::string_view component, const ComponentRules& rules, char* out) noexcept {
  StopFinder stops(component, *rules.stops);
  std::size_t read = 0;
  while (read < component.size()) {
    const std::size_t stop = stops.next(read);
    out = copy_run(component, read, stop, rules, out);
    if (stop == component.size()) {
      break;
    }
    read = encode_stop(component, stop, rules, out);
    if (read == std::string_view::npos) {
      return nullptr;
    }
  }
  return out;
}

std::size_t count_growing(std::string_view text, const ComponentRules& rules) noexcept {
  std::size_t count = 0;
  for (std::size_t from = 0; from < text.size(); from += 64) {
    count += static_cast<std::size_t>(std::popcount(stop_bits(text, from, *rules.growing)));
  }
  return count;
}

bool append_canonical(std::string_view component, const ComponentRules& rules, KeyBuffer& out) {
  const std::size_t begin = out.size();
  char* const first =
      out.extend(max_canonical_bytes(component, rules, inline_room(out)));
  const char* const end = write_canonical(component, rules, first);
  out.truncate(end == nullptr ? begin : begin + static_cast<std::size_t>(end - first));
  return end != nullptr;
}

void append_strict(std::string_view value, KeyBuffer& out) {
  for (const char c : value) {
    if ((char_class(c) & unreserved_class) != 0) {
      out.push_back(c);
    } else {
      append_escape(static_cast<unsigned char>(c), out);
    }
  }
}

void append_hex(const unsigned char* bytes, std::size_t count, KeyBuffer& out) {
  for (std::size_t i = 0; i < count; ++i) {
    const char pair[2] = {hex_digit_upper(bytes[i] >> 4U), hex_digit_upper(bytes[i])};
    out.append({pair, 2});
  }
}

// The algorithm of RFC 3986 section 5.2.4, run in place: the output never
// grows past the input, so the write position never overtakes the read one.
std::size_t remove_dot_segments(char* bytes, std::size_t size) noexcept {
  constexpr std::size_t begin = 0;
  std::size_t read = begin;
  std::size_t end = size;
  std::size_t write = begin;

  const auto input_starts_with = [&](std::string_view prefix) {
    return end - read >= prefix.size() && std::string_view{bytes + read, prefix.size()} == prefix;
  };
  const auto input_is = [&](std::string_view whole) {
    return end - read == whole.size() && std::string_view{bytes + read, whole.size()} == whole;
  };
  const auto drop_last_output_segment = [&] {
    while (write > begin && bytes[write - 1] != '/') {
      --write;
    }
    if (write > begin) {
      --write;
    }
  };

  while (read < end) {
    if (input_starts_with("../")) {
      read += 3;
    } else if (input_starts_with("./")) {
      read += 2;
    } else if (input_starts_with("/./")) {
      read += 2;
    } else if (input_is("/.")) {
      end = read + 1;  // the input becomes "/"
    } else if (input_starts_with("/../")) {
      read += 3;
      drop_last_output_segment();
    } else if (input_is("/..")) {
      end = read + 1;
      drop_last_output_segment();
    } else if (input_is(".") || input_is("..")) {
      read = end;
    } else {
      // Move the first segment, with its leading '/', to the output.
      do {
        bytes[write++] = bytes[read++];
      } while (read < end && bytes[read] != '/');
    }
  }
  return write;
}

std::string_view glob_error(std::string_view pattern) noexcept {
  if (pattern.empty()) {
    return "the pattern is empty";
  }
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\') {
      if (++i == pattern.size()) {
        return "the pattern ends in an unescaped '\\'";
      }
    } else if (pattern[i] == '[') {
      std::size_t j = i + 1;
      if (j < pattern.size() && (pattern[j] == '!' || pattern[j] == '^')) {
        ++j;
      }
      if (j < pattern.size() && pattern[j] == ']') {
        ++j;  // a ']' first in the set is a member, as in POSIX globs
      }
      while (j < pattern.size() && pattern[j] != ']') {
        j += pattern[j] == '\\' ? std::size_t{2} : std::size_t{1};  // '\' escapes a member
      }
      if (j >= pattern.size()) {
        return "a '[' has no closing ']'";
      }
      i = j;
    }
  }
  return {};
}

namespace {

// Reads one set member at pattern[i], which may be escaped by '\', and
// advances i past it.
char read_member(std::string_view pattern, std::size_t& i) noexcept {
  if (pattern[i] == '\\') {
    ++i;
  }
  return pattern[i++];
}

// Matches c against the set that starts after '[' at pattern[i]; sets i to the
// closing ']'. glob_error() has checked that the set is closed.
bool set_matches(std::string_view pattern, std::size_t& i, char c) noexcept {
  ++i;
  bool negated = false;
  if (pattern[i] == '!' || pattern[i] == '^') {
    negated = true;
    ++i;
  }
  bool matched = false;
  bool first = true;
  while (first || pattern[i] != ']') {
    first = false;
    const char low = read_member(pattern, i);
    if (pattern[i] == '-' && i + 1 < pattern.size() && pattern[i + 1] != ']') {
      ++i;
      const char high = read_member(pattern, i);
      matched = matched || (low <= c && c <= high);
    } else {
      matched = matched || c == low;
    }
  }
  return matched != negated;
}

}  // namespace

// Iterative matching with one backtrack point for the last '*', which is
// linear in practice and never recurses.
bool glob_match(std::string_view pattern, std::string_view text) noexcept {
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star_p = std::string_view::npos;
  std::size_t star_t = 0;

  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star_p = p++;
      star_t = t;
      continue;
    }
    if (p < pattern.size()) {
      std::size_t next = p;
      bool matched = false;
      if (pattern[p] == '?') {
        matched = true;
      } else if (pattern[p] == '[') {
        matched = set_matches(pattern, next, text[t]);
      } else if (pattern[p] == '\\') {
        matched = pattern[++next] == text[t];
      } else {
        matched = pattern[p] == text[t];
      }
      if (matched) {
        p = next + 1;
        ++t;
        continue;
      }
    }
    if (star_p == std::string_view::npos) {
      return false;
    }
    p = star_p + 1;
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') {
    ++p;
  }
  return p == pattern.size();
}

}  // namespace viewcache::detail
