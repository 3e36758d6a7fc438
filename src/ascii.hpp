#pragma once

// ASCII helpers shared by the sources. HTTP field names, methods and
// Cache-Control directives are ASCII, and comparing them must not depend on
// the process locale, so <cctype> is not used.

#include <cstddef>
#include <string_view>

namespace viewcache::detail {

constexpr char to_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) {
      return false;
    }
  }
  return true;
}

constexpr bool is_hex_digit(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  return to_lower(c) - 'a' + 10;
}

constexpr char hex_digit_upper(unsigned value) noexcept {
  return "0123456789ABCDEF"[value & 0xFU];
}

constexpr bool is_space_or_tab(char c) noexcept { return c == ' ' || c == '\t'; }

constexpr std::string_view trim(std::string_view text) noexcept {
  while (!text.empty() && is_space_or_tab(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_space_or_tab(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

}  // namespace viewcache::detail
