#include "byte_scan.hpp"

#include <algorithm>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define VIEWCACHE_SSSE3_SCAN 1
#include <immintrin.h>
#endif

namespace viewcache::detail {

std::uint64_t stop_bits_scalar(std::string_view text, std::size_t from,
                               const StopSet& stops) noexcept {
  const std::size_t count = std::min<std::size_t>(64, text.size() - from);
  std::uint64_t bits = 0;
  for (std::size_t i = 0; i < count; ++i) {
    bits |= std::uint64_t{stops.contains[static_cast<unsigned char>(text[from + i])]} << i;
  }
  return bits;
}

#ifdef VIEWCACHE_SSSE3_SCAN
namespace {

// Returns a 16-bit mask of the bytes at bytes[0, 16) that are in stops. A
// byte passes when the row of its low nibble has the bit of its high nibble.
// The high-nibble table has no bit for 8 to F, so non-ASCII bytes stop.
__attribute__((target("ssse3"))) unsigned stop_block(const char* bytes, __m128i pass_rows) {
  const __m128i high_bit = _mm_setr_epi8(1, 2, 4, 8, 16, 32, 64, -128, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m128i nibble = _mm_set1_epi8(0x0F);
  const __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes));
  const __m128i low = _mm_and_si128(block, nibble);
  const __m128i high = _mm_and_si128(_mm_srli_epi16(block, 4), nibble);
  const __m128i pass =
      _mm_and_si128(_mm_shuffle_epi8(pass_rows, low), _mm_shuffle_epi8(high_bit, high));
  const __m128i stop = _mm_cmpeq_epi8(pass, _mm_setzero_si128());
  return static_cast<unsigned>(_mm_movemask_epi8(stop));
}

// Reads only inside text: a last partial block is read as the 16 bytes that
// end at text's end, and a text shorter than 16 bytes is scanned bytewise.
__attribute__((target("ssse3"))) std::uint64_t stop_bits_ssse3(std::string_view text,
                                                               std::size_t from,
                                                               const StopSet& stops) noexcept {
  if (text.size() < 16) {
    return stop_bits_scalar(text, from, stops);
  }
  const __m128i pass_rows =
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(stops.pass_by_low_nibble.data()));
  const std::size_t count = std::min<std::size_t>(64, text.size() - from);
  std::uint64_t bits = 0;
  std::size_t i = 0;
  for (; i + 16 <= count; i += 16) {
    bits |= std::uint64_t{stop_block(text.data() + from + i, pass_rows)} << i;
  }
  if (i < count) {
    // The block that ends at from + count, which is text's end, holds the
    // count - i bytes still to scan in its top bits.
    const unsigned tail = stop_block(text.data() + from + count - 16, pass_rows);
    bits |= std::uint64_t{tail >> (16 - (count - i))} << i;
  }
  return bits;
}

bool has_ssse3() noexcept {
  static const bool supported = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("ssse3") != 0;
  }();
  return supported;
}

}  // namespace
#endif

std::uint64_t stop_bits(std::string_view text, std::size_t from, const StopSet& stops) noexcept {
#ifdef VIEWCACHE_SSSE3_SCAN
  if (has_ssse3()) {
    return stop_bits_ssse3(text, from, stops);
  }
#endif
  return stop_bits_scalar(text, from, stops);
}

}  // namespace viewcache::detail
