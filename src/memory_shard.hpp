#pragma once

// One shard of MemoryStore: a hash map from key to entry plus an intrusive LRU
// list, guarded by one mutex. Every member function locks the mutex itself.

#include <boost/container_hash/hash.hpp>
#include <boost/intrusive/list.hpp>
#include <boost/unordered/unordered_flat_map.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "viewcache/memory_store.hpp"

namespace viewcache::detail {

struct MemoryEntry : boost::intrusive::list_base_hook<> {
  std::string key;
  std::shared_ptr<const Page> page;
  Clock::time_point expires_at;
  std::size_t charge = 0;  // bytes counted against the shard's budget
};

class MemoryShard {
 public:
  MemoryShard(std::size_t max_bytes, const Clock& clock) noexcept
      : max_bytes_(max_bytes), clock_(clock) {}

  ~MemoryShard();

  MemoryShard(const MemoryShard&) = delete;
  MemoryShard& operator=(const MemoryShard&) = delete;

  [[nodiscard]] Store::Hit get(std::string_view key);
  bool put(std::string_view key, std::shared_ptr<const Page> page,
           std::chrono::milliseconds ttl);
  bool erase(std::string_view key);
  void clear();
  void add_to(MemoryStore::Stats& stats) const;

 private:
  // The map's keys view the key string inside the entry it points to. Entries
  // live on the heap, so rehashing moves the pointer but never the string.
  using Map = boost::unordered_flat_map<std::string_view, std::unique_ptr<MemoryEntry>,
                                        boost::hash<std::string_view>>;

  // Front is the most recently used entry.
  using LruList = boost::intrusive::list<MemoryEntry>;

  void remove_locked(Map::iterator position);
  void make_room_locked(std::size_t charge, Clock::time_point now);

  mutable std::mutex mutex_;
  const std::size_t max_bytes_;
  const Clock& clock_;

  Map map_;
  LruList lru_;
  std::size_t bytes_ = 0;

  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
  std::uint64_t inserts_ = 0;
  std::uint64_t rejected_ = 0;
  std::uint64_t evicted_capacity_ = 0;
  std::uint64_t evicted_expired_ = 0;
  std::uint64_t erased_ = 0;
};

}  // namespace viewcache::detail
