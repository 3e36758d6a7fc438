#pragma once

// Server-side sessions of the example site. The browser holds only a random
// session id in a cookie. The user name stays on the server, so a client
// cannot claim to be someone else by editing a cookie.

#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace lms {

// The name of the cookie that carries the session id.
inline constexpr std::string_view session_cookie_name = "session";

// Fills out with random bytes from OpenSSL's RAND_bytes, which are fit for
// secrets. Throws std::runtime_error naming purpose and the OpenSSL error
// when RAND_bytes fails.
void fill_random_bytes(std::span<unsigned char> out, std::string_view purpose);

// Returns true when name is 1 to 32 characters from [A-Za-z0-9_.-], the user
// names the login form accepts.
[[nodiscard]] bool is_valid_user_name(std::string_view name) noexcept;

// Returns the value of the session cookie in a Cookie request header, or an
// empty view when the header has none. The view points into cookie_header.
[[nodiscard]] std::string_view find_session_cookie(std::string_view cookie_header) noexcept;

// A mutex-guarded table from session id to user name. Thread-safe.
// NOTE: sessions never expire and the table has no size limit, so a client
// that logs in without end grows it without end. Fine for a demo, not for a
// site on the open internet.
class SessionTable {
 public:
  // Creates a session for user and returns its id: 128 bits from OpenSSL's
  // RAND_bytes as 32 lowercase hex digits. Throws std::runtime_error when
  // RAND_bytes fails.
  [[nodiscard]] std::string create(std::string user);

  // Returns the user of session id, or std::nullopt for an unknown id.
  [[nodiscard]] std::optional<std::string> find_user(std::string_view id) const;

  // Removes session id. Returns true when it existed.
  bool erase(std::string_view id);

  [[nodiscard]] std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::string, std::less<>> users_by_id_;
};

}  // namespace lms
