#pragma once

// Finding the few bytes of a key component that need more than a plain copy.
// Most bytes of a typical path or query go into the key unchanged, so the key
// encoder copies the runs between those bytes whole. The scan tests 16 bytes
// at a time with SSSE3 where the processor has it, and one at a time elsewhere.

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace viewcache::detail {

// A set of bytes that stop a run: every byte outside the set is ASCII.
// Membership is stored twice, once per lookup that stop_bits() may use.
struct StopSet {
  // For the low nibble l of a byte, bit h is set when the byte (h << 4 | l) is
  // not in the set (h < 8). Bytes of 0x80 and above are always in the set.
  std::array<unsigned char, 16> pass_by_low_nibble{};
  // 1 for the bytes in the set.
  std::array<unsigned char, 256> contains{};
};

// Builds the set of the bytes for which passes(byte) is false.
template <typename Predicate>
constexpr StopSet make_stop_set(Predicate passes) {
  StopSet set;
  for (unsigned byte = 0; byte < 256; ++byte) {
    const bool pass = byte < 0x80 && passes(static_cast<unsigned char>(byte));
    set.contains[byte] = pass ? 0 : 1;
    if (pass) {
      set.pass_by_low_nibble[byte & 0xFU] |= static_cast<unsigned char>(1U << (byte >> 4U));
    }
  }
  return set;
}

// Returns a mask with bit i set when text[from + i] is in stops, for every
// i < 64 with from + i < text.size(). Requires from < text.size().
[[nodiscard]] std::uint64_t stop_bits(std::string_view text, std::size_t from,
                                      const StopSet& stops) noexcept;

// The same result, one byte at a time: the fallback of stop_bits(), public so
// tests can compare the two.
[[nodiscard]] std::uint64_t stop_bits_scalar(std::string_view text, std::size_t from,
                                             const StopSet& stops) noexcept;

// Returns the positions of the bytes of one text that are in a set, in
// increasing order. It scans 64 bytes per call to stop_bits() and keeps the
// mask, because the encoder requests the next stop after every run, and runs
// in a query are a few bytes long.
class StopFinder {
 public:
  // text and stops must outlive the finder.
  StopFinder(std::string_view text, const StopSet& stops) noexcept
      : text_(text), stops_(&stops) {}

  // Returns the position of the first byte at or after from that is in the
  // set, or text.size() when there is none. Calls need not be in order.
  [[nodiscard]] std::size_t next(std::size_t from) noexcept {
    while (from < text_.size()) {
      if (from < window_ || from - window_ >= window_bytes) {
        window_ = from;
        bits_ = stop_bits(text_, from, *stops_);
      }
      const std::uint64_t ahead = bits_ >> (from - window_);
      if (ahead != 0) {
        return from + static_cast<std::size_t>(std::countr_zero(ahead));
      }
      from = window_ + window_bytes;
    }
    return text_.size();
  }

 private:
  static constexpr std::size_t window_bytes = 64;

  std::string_view text_;
  const StopSet* stops_;
  // bits_ is stop_bits(text_, window_, *stops_). window_ starts past every
  // position, so the first call to next() fills bits_.
  std::size_t window_ = static_cast<std::size_t>(-1);
  std::uint64_t bits_ = 0;
};

}  // namespace viewcache::detail
