#pragma once

// An independent model of AuthAwareKeyPolicy for tests and the fuzz target.
//
// expected_parts() computes, from a request and the policy's options, what a
// key must encode, without using the library's encoder. decode_key() parses a
// key back into the same parts. If decode_key(key(r)) == expected_parts(r)
// for every request r, the key function is injective over canonical requests:
// two requests with different parts cannot share a key, because the key
// decodes to only one of them.
//
// A component is a sequence of elements: a byte (0-255), or a reserved
// character kept raw (256 + the character), because RFC 3986 makes "/" and
// "%2F" different while "a" and "%61" are the same.

#include <fnmatch.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "viewcache/auth_aware_key_policy.hpp"

namespace viewcache::reference {

using Component = std::vector<int>;
constexpr int raw_tag = 256;

struct Parts {
  Component path;
  std::string variant;  // decoded audience part, such as "anon" or "role-<bytes>"
  std::vector<std::pair<std::string, std::string>> vary;  // name, decoded value
  bool has_query = false;
  // Parameters grouped by name, values in received order. A value is absent
  // (nullopt) for a parameter without '='. Raw mode keeps the whole query
  // under one empty-named group instead.
  std::map<Component, std::vector<std::optional<Component>>> query;

  friend bool operator==(const Parts&, const Parts&) = default;
};

inline bool is_unreserved(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.' || c == '_' || c == '~';
}

inline constexpr std::string_view path_raw_reserved = "!$&'()*+,;=:@/";
inline constexpr std::string_view query_raw_reserved = "!$&'()*+,;=:@/?";

inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

inline bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

inline int fold(int element, bool fold_lower) {
  if (fold_lower && element >= 'A' && element <= 'Z') return element - 'A' + 'a';
  if (fold_lower && element >= raw_tag + 'A' && element <= raw_tag + 'Z') return element + 32;
  return element;
}

// The elements of a component in received (percent-encoded) form, or nullopt
// when it has a malformed escape or a raw character from rejected.
inline std::optional<Component> received_form(std::string_view text, std::string_view raw_reserved,
                                              std::string_view rejected, bool fold_lower,
                                              bool plus_is_space) {
  Component form;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size() || !is_hex(text[i + 1]) || !is_hex(text[i + 2])) return std::nullopt;
      form.push_back(fold(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]), fold_lower));
      i += 2;
    } else if (rejected.find(c) != std::string_view::npos) {
      return std::nullopt;
    } else if (c == '+' && plus_is_space) {
      form.push_back(' ');
    } else if (raw_reserved.find(c) != std::string_view::npos) {
      form.push_back(raw_tag + static_cast<unsigned char>(c));
    } else {
      form.push_back(fold(static_cast<unsigned char>(c), fold_lower));
    }
  }
  return form;
}

// Segment-wise dot removal for a path that starts with '/'.
inline Component without_dot_segments(const Component& path) {
  std::vector<Component> segments(1);
  for (std::size_t i = 1; i < path.size(); ++i) {
    if (path[i] == raw_tag + '/') {
      segments.emplace_back();
    } else {
      segments.back().push_back(path[i]);
    }
  }
  const Component dot{'.'};
  const Component dot_dot{'.', '.'};
  std::vector<Component> kept;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const bool last = i + 1 == segments.size();
    if (segments[i] == dot || segments[i] == dot_dot) {
      if (segments[i] == dot_dot && !kept.empty()) kept.pop_back();
      if (last) kept.emplace_back();
    } else {
      kept.push_back(segments[i]);
    }
  }
  Component result{raw_tag + '/'};
  for (std::size_t i = 0; i < kept.size(); ++i) {
    if (i > 0) result.push_back(raw_tag + '/');
    result.insert(result.end(), kept[i].begin(), kept[i].end());
  }
  return result;
}

// The canonical text of a component, for glob matching as the policy does.
inline std::string canonical_text(const Component& component) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string text;
  for (const int element : component) {
    if (element >= raw_tag) {
      text.push_back(static_cast<char>(element - raw_tag));
    } else if (is_unreserved(element)) {
      text.push_back(static_cast<char>(element));
    } else {
      text += {'%', digits[element >> 4], digits[element & 15]};
    }
  }
  return text;
}

inline bool glob_matches(const std::vector<std::string>& patterns, const std::string& name) {
  return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& pattern) {
    return fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
  });
}

inline std::string hex_upper(const unsigned char* bytes, std::size_t count) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string text;
  for (std::size_t i = 0; i < count; ++i) {
    text += {digits[bytes[i] >> 4], digits[bytes[i] & 15]};
  }
  return text;
}

// The parts a request's key must encode, or nullopt when the policy must
// reject the request (the expected status is then not checked here).
inline std::optional<Parts> expected_parts(const AuthAwareKeyPolicy::Options& options,
                                           const Request& request) {
  Parts parts;
  const bool fold_lower = options.path.letter_case == PathCase::fold_lower;

  // Path.
  if (request.path_form == PathForm::decoded) {
    for (const char c : request.path) {
      const bool raw = path_raw_reserved.find(c) != std::string_view::npos;
      parts.path.push_back(fold(raw ? raw_tag + static_cast<unsigned char>(c)
                                    : static_cast<unsigned char>(c), fold_lower));
    }
  } else {
    auto path = received_form(request.path, path_raw_reserved, "?#", fold_lower, false);
    if (!path) return std::nullopt;
    parts.path = *path;
  }
  if (options.path.remove_dot_segments && !parts.path.empty() && parts.path[0] == raw_tag + '/') {
    parts.path = without_dot_segments(parts.path);
  }
  if (options.path.trailing_slash == TrailingSlash::strip) {
    while (parts.path.size() > 1 && parts.path.back() == raw_tag + '/') parts.path.pop_back();
  }
  if (parts.path.empty()) parts.path.push_back(raw_tag + '/');

  // Variant.
  const Viewer& viewer = request.viewer;
  if (viewer.audience == Audience::anonymous) {
    parts.variant = "anon";
  } else if (options.vary_by == VariantScope::audience) {
    parts.variant = "auth";
  } else if (options.vary_by == VariantScope::role) {
    if (viewer.role.empty()) return std::nullopt;
    parts.variant = "role-" + std::string{viewer.role};
  } else {
    if (viewer.user_id.empty()) return std::nullopt;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    HMAC(EVP_sha256(), options.user_secret.data(), static_cast<int>(options.user_secret.size()),
         reinterpret_cast<const unsigned char*>(viewer.user_id.data()), viewer.user_id.size(),
         digest, &size);
    parts.variant = "user-" + hex_upper(digest, 16);
  }
  std::vector<std::string> names = options.vary;
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    const auto value = std::find_if(request.vary.begin(), request.vary.end(),
                                    [&](const VaryValue& v) { return v.name == name; });
    if (value == request.vary.end()) return std::nullopt;
    parts.vary.emplace_back(name, std::string{value->value});
  }

  // Query.
  const auto& query = options.query;
  if (query.mode == QueryMode::raw) {
    if (request.query.empty()) return parts;
    auto whole = received_form(request.query, query_raw_reserved, "#", false, query.plus_is_space);
    if (!whole) return std::nullopt;
    parts.has_query = true;
    parts.query[{}].push_back(*whole);
    return parts;
  }
  std::string_view rest = request.query;
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view raw = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (raw.empty()) continue;
    const std::size_t equals = raw.find('=');
    auto name = received_form(raw.substr(0, equals), query_raw_reserved, "#", false,
                              query.plus_is_space);
    if (!name) return std::nullopt;
    // A parameter left out of the key is not read past its name.
    const std::string text = canonical_text(*name);
    if (glob_matches(query.ignore, text)) continue;
    if (query.allow && !glob_matches(*query.allow, text)) continue;
    std::optional<Component> value;
    if (equals != std::string_view::npos) {
      value = received_form(raw.substr(equals + 1), query_raw_reserved, "#", false,
                            query.plus_is_space);
      if (!value) return std::nullopt;
    }
    parts.query[*name].push_back(value);
  }
  parts.has_query = !parts.query.empty();
  return parts;
}

// Option sets that between them switch on every option of the policy.
inline std::vector<AuthAwareKeyPolicy::Options> option_sets() {
  std::vector<AuthAwareKeyPolicy::Options> sets(8);
  sets[1].vary_by = VariantScope::user;
  sets[1].user_secret = "property-test-secret";
  sets[2].vary_by = VariantScope::role;
  sets[2].vary = {"locale", "tenant"};
  sets[3].path = {.trailing_slash = TrailingSlash::strip, .letter_case = PathCase::fold_lower,
                  .remove_dot_segments = true};
  sets[4].query.mode = QueryMode::raw;
  sets[5].query.ignore = {"utm_*", "[ab]"};
  sets[5].query.plus_is_space = true;
  sets[6].query.allow = std::vector<std::string>{"page", "a*"};
  sets[7].max_key_bytes = 1 << 20;  // never shortened, so every key decodes
  return sets;
}

// Decodes percent escapes, keeping characters from raw_reserved tagged.
inline Component decode_component(std::string_view text, std::string_view raw_reserved) {
  Component form;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      form.push_back(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else if (raw_reserved.find(text[i]) != std::string_view::npos) {
      form.push_back(raw_tag + static_cast<unsigned char>(text[i]));
    } else {
      form.push_back(static_cast<unsigned char>(text[i]));
    }
  }
  return form;
}

inline std::string decode_strict(std::string_view text) {
  std::string bytes;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      bytes.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
      i += 2;
    } else {
      bytes.push_back(text[i]);
    }
  }
  return bytes;
}

// Parses a key of the documented grammar; nullopt when it does not parse.
inline std::optional<Parts> decode_key(std::string_view key, QueryMode mode) {
  if (key.substr(0, 5) != "view/") return std::nullopt;
  key.remove_prefix(5);
  const std::size_t question = key.find('?');
  const std::string_view before = key.substr(0, question);
  const std::size_t slash = before.rfind('/');
  if (slash == std::string_view::npos) return std::nullopt;

  Parts parts;
  parts.path = decode_component(before.substr(0, slash), path_raw_reserved);

  std::string_view variant = before.substr(slash + 1);
  const std::size_t semicolon = variant.find(';');
  const std::string_view audience = variant.substr(0, semicolon);
  parts.variant = audience.substr(0, 5) == "role-"
                      ? "role-" + decode_strict(audience.substr(5))
                      : std::string{audience};
  variant.remove_prefix(semicolon == std::string_view::npos ? variant.size() : semicolon + 1);
  while (!variant.empty()) {
    const std::size_t end = variant.find(';');
    const std::string_view pair = variant.substr(0, end);
    const std::size_t equals = pair.find('=');
    if (equals == std::string_view::npos) return std::nullopt;
    parts.vary.emplace_back(std::string{pair.substr(0, equals)},
                            decode_strict(pair.substr(equals + 1)));
    variant.remove_prefix(end == std::string_view::npos ? variant.size() : end + 1);
  }

  if (question == std::string_view::npos) return parts;
  parts.has_query = true;
  std::string_view query = key.substr(question + 1);
  if (mode == QueryMode::raw) {
    parts.query[{}].push_back(decode_component(query, query_raw_reserved));
    return parts;
  }
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view raw = query.substr(0, amp);
    query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
    const std::size_t equals = raw.find('=');
    std::optional<Component> value;
    if (equals != std::string_view::npos) {
      value = decode_component(raw.substr(equals + 1), query_raw_reserved);
    }
    parts.query[decode_component(raw.substr(0, equals), query_raw_reserved)].push_back(value);
  }
  return parts;
}

// True when the names in the key's query appear in non-decreasing byte order.
inline bool query_names_sorted(std::string_view key) {
  const std::size_t question = key.find('?');
  if (question == std::string_view::npos) return true;
  std::string_view query = key.substr(question + 1);
  std::string_view previous;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view raw = query.substr(0, amp);
    query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
    const std::string_view name = raw.substr(0, raw.find('='));
    if (name < previous) return false;
    previous = name;
  }
  return true;
}

}  // namespace viewcache::reference
