#pragma once

#include <cstdint>

namespace viewcache::detail {

// The SplitMix64 finalizer: spreads every input bit over the output. Used to
// remix hashes for the frequency sketch and to step small random generators.
constexpr std::uint64_t mix64(std::uint64_t value) noexcept {
  value ^= value >> 30U;
  value *= 0xBF58476D1CE4E5B9ULL;
  value ^= value >> 27U;
  value *= 0x94D049BB133111EBULL;
  value ^= value >> 31U;
  return value;
}

}  // namespace viewcache::detail
