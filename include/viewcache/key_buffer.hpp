#pragma once

// KeyBuffer: the buffer a CacheKeyPolicy writes a key into. It stores up to
// inline_capacity bytes inside the object, so building a typical key on the
// stack makes no heap allocation. Longer keys move to the heap.

#include <boost/container/small_vector.hpp>

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace viewcache {

class KeyBuffer {
 public:
  // Room for a memcached-sized key (250 bytes) without a heap allocation.
  static constexpr std::size_t inline_capacity = 256;

  // Grows without zero-filling and copies with memcpy: the generic range
  // insert costs more than the copy itself for the short runs keys are made of.
  void append(std::string_view text) {
    const std::size_t old_size = bytes_.size();
    bytes_.resize(old_size + text.size(), boost::container::default_init);
    if (!text.empty()) {
      std::memcpy(bytes_.data() + old_size, text.data(), text.size());
    }
  }

  void push_back(char c) { bytes_.push_back(c); }

  // Appends count uninitialized bytes and returns a pointer to the first. For
  // writers that know a bound on what they write: they write through the
  // pointer, then truncate() to what they wrote. Valid until the next change.
  [[nodiscard]] char* extend(std::size_t count) {
    const std::size_t old_size = bytes_.size();
    bytes_.resize(old_size + count, boost::container::default_init);
    return bytes_.data() + old_size;
  }

  // Shortens the buffer to size bytes. Does nothing when size >= this->size().
  void truncate(std::size_t size) noexcept {
    if (size < bytes_.size()) {
      bytes_.resize(size);
    }
  }

  void clear() noexcept { bytes_.clear(); }

  [[nodiscard]] std::size_t size() const noexcept { return bytes_.size(); }
  [[nodiscard]] bool empty() const noexcept { return bytes_.empty(); }

  // The bytes written so far. Invalidated by the next change to the buffer.
  [[nodiscard]] std::string_view view() const noexcept { return {bytes_.data(), bytes_.size()}; }

  // Mutable access for in-place rewriting, such as dot-segment removal.
  [[nodiscard]] char* data() noexcept { return bytes_.data(); }

  [[nodiscard]] std::string str() const { return std::string{view()}; }

 private:
  boost::container::small_vector<char, inline_capacity> bytes_;
};

}  // namespace viewcache
