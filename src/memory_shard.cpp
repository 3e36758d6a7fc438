#include "memory_shard.hpp"

namespace viewcache::detail {

MemoryShard::~MemoryShard() { lru_.clear(); }

Store::Hit MemoryShard::get(std::string_view key) {
  const Clock::time_point now = clock_.now();
  std::lock_guard lock(mutex_);

  const auto position = map_.find(key);
  if (position == map_.end()) {
    ++misses_;
    return {};
  }

  MemoryEntry& entry = *position->second;
  if (entry.expires_at <= now) {
    ++evicted_expired_;
    ++misses_;
    remove_locked(position);
    return {};
  }

  lru_.splice(lru_.begin(), lru_, lru_.iterator_to(entry));
  ++hits_;
  const auto ttl_left =
      std::chrono::duration_cast<std::chrono::milliseconds>(entry.expires_at - now);
  return {entry.page, ttl_left};
}

bool MemoryShard::put(std::string_view key, std::shared_ptr<const Page> page,
                      std::chrono::milliseconds ttl) {
  if (page == nullptr || ttl.count() <= 0) {
    return false;
  }

  auto entry = std::make_unique<MemoryEntry>();
  entry->key.assign(key);
  entry->charge = key.size() + page->byte_size() + MemoryStore::entry_overhead;
  entry->page = std::move(page);

  const Clock::time_point now = clock_.now();
  entry->expires_at = now + ttl;

  std::lock_guard lock(mutex_);

  // A replaced entry is removed first, so its bytes are free for its successor.
  if (const auto old = map_.find(key); old != map_.end()) {
    ++erased_;
    remove_locked(old);
  }

  if (entry->charge > max_bytes_) {
    ++rejected_;
    return false;
  }
  make_room_locked(entry->charge, now);

  bytes_ += entry->charge;
  lru_.push_front(*entry);
  const std::string_view stored_key = entry->key;
  map_.emplace(stored_key, std::move(entry));
  ++inserts_;
  return true;
}

bool MemoryShard::erase(std::string_view key) {
  std::lock_guard lock(mutex_);
  const auto position = map_.find(key);
  if (position == map_.end()) {
    return false;
  }
  ++erased_;
  remove_locked(position);
  return true;
}

void MemoryShard::clear() {
  std::lock_guard lock(mutex_);
  erased_ += map_.size();
  lru_.clear();
  map_.clear();
  bytes_ = 0;
}

void MemoryShard::add_to(MemoryStore::Stats& stats) const {
  std::lock_guard lock(mutex_);
  stats.entries += map_.size();
  stats.bytes += bytes_;
  stats.hits += hits_;
  stats.misses += misses_;
  stats.inserts += inserts_;
  stats.rejected += rejected_;
  stats.evicted_capacity += evicted_capacity_;
  stats.evicted_expired += evicted_expired_;
  stats.erased += erased_;
}

void MemoryShard::remove_locked(Map::iterator position) {
  MemoryEntry& entry = *position->second;
  bytes_ -= entry.charge;
  lru_.erase(lru_.iterator_to(entry));
  map_.erase(position);
}

// Evicts from the least recently used end until charge more bytes fit.
void MemoryShard::make_room_locked(std::size_t charge, Clock::time_point now) {
  while (bytes_ + charge > max_bytes_ && !lru_.empty()) {
    MemoryEntry& victim = lru_.back();
    if (victim.expires_at <= now) {
      ++evicted_expired_;
    } else {
      ++evicted_capacity_;
    }
    remove_locked(map_.find(std::string_view{victim.key}));
  }
}

}  // namespace viewcache::detail
