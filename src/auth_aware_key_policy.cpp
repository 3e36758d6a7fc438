#include "viewcache/auth_aware_key_policy.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

#include "ascii.hpp"

namespace viewcache {
namespace {

constexpr std::string_view key_prefix = "view/";
constexpr std::size_t user_digest_bytes = 16;  // 128 bits of HMAC-SHA-256

constexpr bool is_unreserved(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.' || c == '_' || c == '~';
}

constexpr bool is_sub_delim(char c) noexcept {
  return c == '!' || c == '$' || c == '&' || c == '\'' || c == '(' || c == ')' || c == '*' ||
         c == '+' || c == ',' || c == ';' || c == '=';
}

// RFC 3986 section 3.3: pchar = unreserved / pct-encoded / sub-delims / ":" / "@".
constexpr bool is_path_char(char c) noexcept {
  return is_unreserved(c) || is_sub_delim(c) || c == ':' || c == '@' || c == '/';
}

// RFC 3986 section 3.4: query = *( pchar / "/" / "?" ).
constexpr bool is_query_char(char c) noexcept { return is_path_char(c) || c == '?'; }

void append_escaped_byte(unsigned char byte, std::string& out) {
  out.push_back('%');
  out.push_back(detail::hex_digit_upper(byte >> 4U));
  out.push_back(detail::hex_digit_upper(byte));
}

// Writes component in the canonical form of RFC 3986 section 6.2.2: escapes
// get uppercase hex digits, escaped unreserved characters are decoded, and
// bytes that may not appear raw (space, controls, non-ASCII) are escaped, which
// is how a client would have sent them. Returns false for input that has no
// such form: a '%' not followed by two hex digits, or a raw byte for which
// is_delimiter is true (its escaped form means something else).
template <typename IsAllowed, typename IsDelimiter>
bool append_canonical(std::string_view component, IsAllowed is_allowed,
                      IsDelimiter is_delimiter, std::string& out) {
  for (std::size_t i = 0; i < component.size(); ++i) {
    const char c = component[i];
    if (c == '%') {
      if (component.size() - i < 3) {
        return false;
      }
      if (!detail::is_hex_digit(component[i + 1]) || !detail::is_hex_digit(component[i + 2])) {
        return false;
      }
      const auto byte = static_cast<unsigned char>(detail::hex_value(component[i + 1]) * 16 +
                                                   detail::hex_value(component[i + 2]));
      if (is_unreserved(static_cast<char>(byte))) {
        out.push_back(static_cast<char>(byte));
      } else {
        append_escaped_byte(byte, out);
      }
      i += 2;
    } else if (is_delimiter(c)) {
      return false;
    } else if (is_allowed(c)) {
      out.push_back(c);
    } else {
      append_escaped_byte(static_cast<unsigned char>(c), out);
    }
  }
  return true;
}

void append_hex(const unsigned char* bytes, std::size_t count, std::string& out) {
  for (std::size_t i = 0; i < count; ++i) {
    out.push_back(detail::hex_digit_upper(bytes[i] >> 4U));
    out.push_back(detail::hex_digit_upper(bytes[i]));
  }
}

}  // namespace

std::string_view to_string(KeyStatus status) noexcept {
  switch (status) {
    case KeyStatus::ok:
      return "ok";
    case KeyStatus::invalid_path:
      return "invalid-path";
    case KeyStatus::invalid_query:
      return "invalid-query";
    case KeyStatus::missing_user_id:
      return "missing-user-id";
  }
  return "unknown";
}

AuthAwareKeyPolicy::AuthAwareKeyPolicy() : AuthAwareKeyPolicy(Options{}) {}

AuthAwareKeyPolicy::AuthAwareKeyPolicy(Options options) : options_(std::move(options)) {
  if (options_.vary_by == VariantScope::user && options_.user_secret.empty()) {
    throw std::invalid_argument(
        "AuthAwareKeyPolicy: user_secret is empty but vary_by is VariantScope::user; "
        "set user_secret to a random secret of at least 16 bytes from your configuration");
  }
}

KeyStatus AuthAwareKeyPolicy::append_key(const Request& request, std::string& out) const {
  out.append(key_prefix);

  const auto is_path_delimiter = [](char c) { return c == '?' || c == '#'; };
  if (!append_canonical(request.path, is_path_char, is_path_delimiter, out)) {
    return KeyStatus::invalid_path;
  }

  out.push_back('/');
  if (const KeyStatus status = append_variant(request.viewer, out); status != KeyStatus::ok) {
    return status;
  }

  // An empty query and no query are the same request, so neither gets a '?'.
  if (request.query.empty()) {
    return KeyStatus::ok;
  }
  out.push_back('?');
  const auto is_query_delimiter = [](char c) { return c == '#'; };
  if (!append_canonical(request.query, is_query_char, is_query_delimiter, out)) {
    return KeyStatus::invalid_query;
  }
  return KeyStatus::ok;
}

KeyStatus AuthAwareKeyPolicy::append_variant(const Viewer& viewer, std::string& out) const {
  if (viewer.audience == Audience::anonymous) {
    out.append("anon");
    return KeyStatus::ok;
  }
  if (options_.vary_by == VariantScope::audience) {
    out.append("auth");
    return KeyStatus::ok;
  }
  if (viewer.user_id.empty()) {
    return KeyStatus::missing_user_id;
  }

  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  HMAC(EVP_sha256(), options_.user_secret.data(), static_cast<int>(options_.user_secret.size()),
       reinterpret_cast<const unsigned char*>(viewer.user_id.data()), viewer.user_id.size(),
       digest, &digest_size);

  out.append("user-");
  append_hex(digest, user_digest_bytes, out);
  return KeyStatus::ok;
}

}  // namespace viewcache
