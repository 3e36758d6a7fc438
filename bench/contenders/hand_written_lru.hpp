#pragma once

// HandWrittenLru: the page cache people write by hand, as a baseline.
// std::unordered_map + std::list LRU behind one std::mutex, with the page
// stored by value and copied out on every hit. The list stores a second copy
// of each key, as the common version of this design does.

#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "viewcache/page.hpp"

namespace viewcache::bench {

class HandWrittenLru {
 public:
  // Stores page under key, as the most recently used entry. Expects a key
  // that is not stored yet. Never evicts, because the benchmarks size their
  // key sets to fit and measure hits only.
  void put(const std::string& key, const Page& page) {
    std::lock_guard lock(mutex_);
    order_.push_front(key);
    map_[key] = {page, order_.begin()};
  }

  // Copies the page under key into out and marks it most recently used.
  // Returns false, leaving out unchanged, when key is absent.
  bool get(const std::string& key, Page& out) {
    std::lock_guard lock(mutex_);
    const auto position = map_.find(key);
    if (position == map_.end()) {
      return false;
    }
    order_.splice(order_.begin(), order_, position->second.second);
    out = position->second.first;
    return true;
  }

 private:
  std::mutex mutex_;
  std::list<std::string> order_;
  std::unordered_map<std::string, std::pair<Page, std::list<std::string>::iterator>> map_;
};

}  // namespace viewcache::bench
