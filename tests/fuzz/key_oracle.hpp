#pragma once

#include <cstddef>
#include <cstdint>

namespace viewcache::fuzz {

// Builds a request and an option set from data, builds its key, and aborts
// when the key breaks a property. The key must decode to the request's
// canonical parts (support/key_reference.hpp), stay within max_key_bytes and
// contain no space or control byte. When shortened, it must equal the full
// key's prefix plus '#' and the full key's SHA-256.
void check_key_oracle(const std::uint8_t* data, std::size_t size);

}  // namespace viewcache::fuzz
