#include "key_oracle.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "support/key_reference.hpp"

namespace viewcache::fuzz {
namespace {

[[noreturn]] void fail(const char* what, std::string_view key) {
  std::fprintf(stderr, "key oracle: %s: key \"%.*s\"\n", what, static_cast<int>(key.size()),
               key.data());
  std::abort();
}

std::string sha256_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr);
  return reference::hex_upper(digest, size);
}

// Splits fuzz input into fields: each field is a length byte and that many
// bytes, and the last field takes the rest.
class FieldReader {
 public:
  FieldReader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  std::uint8_t byte() { return position_ < size_ ? data_[position_++] : 0; }

  std::string field(std::size_t max_size) {
    const std::size_t length = byte() % (max_size + 1);
    const std::size_t wanted = std::min(length, size_ - position_);
    std::string text(reinterpret_cast<const char*>(data_ + position_), wanted);
    position_ += wanted;
    return text;
  }

  std::string rest() {
    std::string text(reinterpret_cast<const char*>(data_ + position_), size_ - position_);
    position_ = size_;
    return text;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t position_ = 0;
};

const std::vector<AuthAwareKeyPolicy>& policies() {
  static const std::vector<AuthAwareKeyPolicy> all = [] {
    std::vector<AuthAwareKeyPolicy> built;
    for (const auto& options : reference::option_sets()) built.emplace_back(options);
    return built;
  }();
  return all;
}

}  // namespace

void check_key_oracle(const std::uint8_t* data, std::size_t size) {
  FieldReader input(data, size);
  const std::vector<AuthAwareKeyPolicy::Options> sets = reference::option_sets();
  const std::size_t set = input.byte() % sets.size();
  const std::uint8_t flags = input.byte();
  const bool signed_in = (flags & 1U) != 0;
  const bool decoded = (flags & 2U) != 0;
  const std::string user = input.field(16);
  const std::string role = input.field(16);
  const std::string locale = input.field(16);
  const std::string tenant = input.field(16);
  const std::string path = input.field(255);
  const std::string query = input.rest();
  const VaryValue vary[] = {{"locale", locale}, {"tenant", tenant}};

  Request request{.path = path, .query = query};
  request.viewer = signed_in ? Viewer::signed_in(user, role) : Viewer::anonymous();
  request.path_form = decoded ? PathForm::decoded : PathForm::received;
  request.vary = vary;

  const AuthAwareKeyPolicy::Options& options = sets[set];
  const auto expected = reference::expected_parts(options, request);
  KeyBuffer key;
  const bool keyed = policies()[set].append_key(request, key) == KeyStatus::ok;
  if (keyed != expected.has_value()) fail("status disagrees with the model", key.view());
  if (!keyed) return;

  const std::string_view text = key.view();
  if (text.size() > options.max_key_bytes) fail("longer than max_key_bytes", text);
  for (const char c : text) {
    if (c <= ' ' || c >= 0x7F) fail("space, control or non-ASCII byte", text);
  }

  // A shortened key: compare with the same request's full key.
  if (text.find('#') != std::string_view::npos) {
    AuthAwareKeyPolicy::Options uncapped = options;
    uncapped.max_key_bytes = std::size_t{1} << 30;
    const auto full = AuthAwareKeyPolicy(uncapped).key(request);
    const std::size_t prefix = options.max_key_bytes - 65;
    if (!full || text != full->substr(0, prefix) + "#" + sha256_hex(*full)) {
      fail("shortened key is not prefix + '#' + SHA-256 of the full key", text);
    }
    return;
  }

  const auto decoded_parts = reference::decode_key(text, options.query.mode);
  if (!decoded_parts) fail("key does not parse", text);
  if (!(*decoded_parts == *expected)) fail("key does not decode to the request", text);
  if (options.query.mode == QueryMode::sorted && !reference::query_names_sorted(text)) {
    fail("query names are not sorted", text);
  }
}

}  // namespace viewcache::fuzz
