#pragma once

#include <cstddef>
#include <cstdint>

namespace viewcache::fuzz {

// Builds a request and an option set from data, builds its key, and aborts
// when the key breaks a property: it must decode to the request's canonical
// parts (support/key_reference.hpp), stay within max_key_bytes, contain no
// space or control byte, and, when shortened, equal the prefix of the full
// key plus '#' and its SHA-256.
void check_key_oracle(const std::uint8_t* data, std::size_t size);

}  // namespace viewcache::fuzz
