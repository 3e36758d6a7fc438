// The low-level SHA-256 functions are deprecated in OpenSSL 3.0 in favour of
// EVP, which allocates; see digest.hpp for why they are used here.
#define OPENSSL_SUPPRESS_DEPRECATED

#include "digest.hpp"

#include <algorithm>

#include <openssl/crypto.h>
#include <openssl/sha.h>

namespace viewcache::detail {
namespace {

constexpr std::size_t sha256_block_bytes = 64;

void update(SHA256_CTX& context, std::string_view data) noexcept {
  SHA256_Update(&context, data.data(), data.size());
}

}  // namespace

struct Hmac::State {
  SHA256_CTX inner;  // absorbed (key XOR ipad)
  SHA256_CTX outer;  // absorbed (key XOR opad)
};

Sha256 sha256(std::string_view data) noexcept {
  Sha256 digest{};
  SHA256_CTX context;
  SHA256_Init(&context);
  update(context, data);
  SHA256_Final(digest.data(), &context);
  return digest;
}

Hmac::Hmac(std::string_view key) {
  // RFC 2104: a key longer than the block is hashed first.
  std::array<unsigned char, sha256_block_bytes> block{};
  if (key.size() > sha256_block_bytes) {
    const Sha256 hashed = sha256(key);
    std::copy(hashed.begin(), hashed.end(), block.begin());
  } else {
    std::copy(key.begin(), key.end(), block.begin());
  }

  auto state = std::make_unique<State>();
  std::array<unsigned char, sha256_block_bytes> pad{};
  for (std::size_t i = 0; i < pad.size(); ++i) {
    pad[i] = static_cast<unsigned char>(block[i] ^ 0x36U);
  }
  SHA256_Init(&state->inner);
  SHA256_Update(&state->inner, pad.data(), pad.size());

  for (std::size_t i = 0; i < pad.size(); ++i) {
    pad[i] = static_cast<unsigned char>(block[i] ^ 0x5CU);
  }
  SHA256_Init(&state->outer);
  SHA256_Update(&state->outer, pad.data(), pad.size());

  OPENSSL_cleanse(block.data(), block.size());
  OPENSSL_cleanse(pad.data(), pad.size());
  state_ = std::move(state);
}

Hmac::~Hmac() = default;

Sha256 Hmac::sign(std::string_view message) const noexcept {
  SHA256_CTX context = state_->inner;
  update(context, message);
  Sha256 inner_digest{};
  SHA256_Final(inner_digest.data(), &context);

  context = state_->outer;
  SHA256_Update(&context, inner_digest.data(), inner_digest.size());
  Sha256 digest{};
  SHA256_Final(digest.data(), &context);
  return digest;
}

}  // namespace viewcache::detail
