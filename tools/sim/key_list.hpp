#pragma once

// Doubly linked lists of dense key ids whose links live in arrays shared by
// several lists, so each key is in at most one of them at a time. LRU keeps
// one such list and ARC four, with no allocation per request.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace viewcache::sim {

class KeyLinks {
 public:
  static constexpr std::uint32_t none = UINT32_MAX;

  explicit KeyLinks(std::uint32_t key_count) : previous_(key_count, none), next_(key_count, none) {}

 private:
  friend class KeyList;
  std::vector<std::uint32_t> previous_;
  std::vector<std::uint32_t> next_;
};

// Front is the most recently inserted key, back the oldest.
class KeyList {
 public:
  void push_front(KeyLinks& links, std::uint32_t key) noexcept {
    links.previous_[key] = KeyLinks::none;
    links.next_[key] = front_;
    if (front_ != KeyLinks::none) {
      links.previous_[front_] = key;
    } else {
      back_ = key;
    }
    front_ = key;
    ++size_;
  }

  // key must be in this list.
  void remove(KeyLinks& links, std::uint32_t key) noexcept {
    const std::uint32_t previous = links.previous_[key];
    const std::uint32_t next = links.next_[key];
    if (previous != KeyLinks::none) {
      links.next_[previous] = next;
    } else {
      front_ = next;
    }
    if (next != KeyLinks::none) {
      links.previous_[next] = previous;
    } else {
      back_ = previous;
    }
    --size_;
  }

  // Removes and returns the oldest key. The list must not be empty.
  std::uint32_t pop_back(KeyLinks& links) noexcept {
    const std::uint32_t key = back_;
    remove(links, key);
    return key;
  }

  [[nodiscard]] std::uint32_t back() const noexcept { return back_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

 private:
  std::uint32_t front_ = KeyLinks::none;
  std::uint32_t back_ = KeyLinks::none;
  std::size_t size_ = 0;
};

}  // namespace viewcache::sim
