#pragma once

// SHA-256 and HMAC-SHA-256 without heap allocation, for key building.
//
// OpenSSL 3's EVP interface allocates a context per call. The low-level
// SHA256_* functions work on a plain struct instead, so an HMAC keyed once at
// construction can be copied and finished per call at no allocation. Those
// functions are deprecated in OpenSSL 3.0 but still provided; digest.cpp is the
// only file that uses them.

#include <array>
#include <cstddef>
#include <memory>
#include <string_view>

namespace viewcache::detail {

inline constexpr std::size_t sha256_bytes = 32;
using Sha256 = std::array<unsigned char, sha256_bytes>;

[[nodiscard]] Sha256 sha256(std::string_view data) noexcept;

// HMAC-SHA-256 (RFC 2104) with the key absorbed once, at construction.
class Hmac {
 public:
  explicit Hmac(std::string_view key);
  ~Hmac();

  Hmac(const Hmac&) = delete;
  Hmac& operator=(const Hmac&) = delete;

  [[nodiscard]] Sha256 sign(std::string_view message) const noexcept;

 private:
  struct State;
  std::unique_ptr<const State> state_;
};

}  // namespace viewcache::detail
