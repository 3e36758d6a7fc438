#include "sessions.hpp"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>
#include <utility>

namespace lms {
namespace {

constexpr std::size_t session_id_bytes = 16;  // 128 bits

constexpr bool is_user_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '.' || c == '-';
}

std::string_view trim_spaces(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

std::string random_session_id() {
  std::array<unsigned char, session_id_bytes> bytes{};
  fill_random_bytes(bytes, "a session id");

  constexpr std::string_view hex_digits = "0123456789abcdef";
  std::string id;
  id.reserve(2 * bytes.size());
  for (const unsigned char byte : bytes) {
    id.push_back(hex_digits[byte >> 4U]);
    id.push_back(hex_digits[byte & 0x0FU]);
  }
  return id;
}

}  // namespace

void fill_random_bytes(std::span<unsigned char> out, std::string_view purpose) {
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) == 1) {
    return;
  }
  std::array<char, 256> reason{};
  ERR_error_string_n(ERR_get_error(), reason.data(), reason.size());
  throw std::runtime_error(
      fmt::format("RAND_bytes failed to produce {}: {}", purpose, reason.data()));
}

bool is_valid_user_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 32) {
    return false;
  }
  for (const char c : name) {
    if (!is_user_name_char(c)) {
      return false;
    }
  }
  return true;
}

std::string_view find_session_cookie(std::string_view cookie_header) noexcept {
  // RFC 6265 section 4.2.1: cookie-pair *( ";" SP cookie-pair ).
  while (!cookie_header.empty()) {
    const std::size_t end = cookie_header.find(';');
    const std::string_view pair = trim_spaces(cookie_header.substr(0, end));
    cookie_header = end == std::string_view::npos ? std::string_view{}
                                                  : cookie_header.substr(end + 1);

    const std::size_t equals = pair.find('=');
    if (equals == std::string_view::npos) {
      continue;
    }
    if (trim_spaces(pair.substr(0, equals)) == session_cookie_name) {
      return trim_spaces(pair.substr(equals + 1));
    }
  }
  return {};
}

std::string SessionTable::create(std::string user) {
  std::string id = random_session_id();

  const std::lock_guard lock(mutex_);
  users_by_id_.insert_or_assign(id, std::move(user));
  return id;
}

std::optional<std::string> SessionTable::find_user(std::string_view id) const {
  const std::lock_guard lock(mutex_);
  const auto found = users_by_id_.find(id);
  if (found == users_by_id_.end()) {
    return std::nullopt;
  }
  return found->second;
}

bool SessionTable::erase(std::string_view id) {
  const std::lock_guard lock(mutex_);
  const auto found = users_by_id_.find(id);
  if (found == users_by_id_.end()) {
    return false;
  }
  users_by_id_.erase(found);
  return true;
}

std::size_t SessionTable::size() const {
  const std::lock_guard lock(mutex_);
  return users_by_id_.size();
}

}  // namespace lms
