#include "memory_shard.hpp"

#include "mix.hpp"

namespace viewcache::detail {
namespace {

// Expired entries reclaimed per operation, on top of the one looked up: enough
// to keep up with insertions, small enough to keep every call short.
constexpr int reclaim_batch = 4;

// Steps a SplitMix64 generator.
std::uint64_t next_random(std::uint64_t& state) noexcept {
  state += 0x9E3779B97F4A7C15ULL;
  return mix64(state);
}

}  // namespace

MemoryShard::MemoryShard(std::size_t max_bytes, std::size_t expected_entries, const Clock& clock,
                         std::chrono::milliseconds max_jitter, std::uint64_t seed,
                         FrontCache& front)
    : clock_(clock),
      front_(front),
      max_jitter_(max_jitter),
      jitter_state_(seed),
      policy_(max_bytes, expected_entries),
      families_(0, StringHash{seed}),
      tags_(0, StringHash{seed}) {}

MemoryShard::~MemoryShard() {
  clear();
}

Store::Hit MemoryShard::get(const HashedKey& key, Clock::time_point now) {
  std::lock_guard lock(mutex_);

  const auto position = table_.find(key);
  const bool found = position != table_.end();
  if (found && (*position)->expires_at <= now) {
    ++evicted_expired_;
    count_label_eviction(**position, false);
    remove_locked(position);
    policy_.record_access(key.hash, false);
    ++misses_;
    return {};
  }

  policy_.record_access(key.hash, found && (*position)->fresh_until > now);
  if (!found) {
    ++misses_;
    return {};
  }

  MemoryEntry& entry = **position;
  const auto ttl_left =
      std::chrono::duration_cast<std::chrono::milliseconds>(entry.fresh_until - now);
  if (entry.fresh_until <= now) {
    // Kept past its TTL for stale-if-error: for the caller it is a miss that
    // comes with a fallback.
    ++misses_;
    return {entry.page, ttl_left, true};
  }
  policy_.on_hit(entry);
  ++hits_;
  front_.remember(key, entry);
  return {entry.page, ttl_left};
}

void MemoryShard::replay_hits(std::span<const BufferedHit> hits) {
  std::lock_guard lock(mutex_);
  for (const BufferedHit& hit : hits) {
    const auto position = table_.find(hit);
    if (position != table_.end()) {
      policy_.record_access(hit.hash, true);
      policy_.on_hit(**position);
      ++replayed_;
    }
  }
}

bool MemoryShard::put(const HashedKey& key, std::shared_ptr<const Page> page,
                      std::chrono::milliseconds ttl, std::size_t weight,
                      const EntryIndexes& indexes) {
  if (page == nullptr || ttl.count() <= 0) {
    return false;
  }

  auto entry = std::make_unique<MemoryEntry>();
  entry->key.assign(key.text);
  entry->hash = key.hash;
  entry->weight = weight;
  entry->page = std::move(page);
  entry->tags.resize(indexes.tags.size());

  const Clock::time_point now = clock_.now();
  std::lock_guard lock(mutex_);
  // About 68 years: far beyond any page's life, and far from the time
  // point's overflow.
  constexpr std::chrono::milliseconds max_ttl = std::chrono::seconds{std::int64_t{1} << 31};
  entry->fresh_until = expiry_for(now, std::min(ttl, max_ttl));
  entry->expires_at = entry->fresh_until + indexes.stale_for;
  reclaim_expired_locked(now);

  // A replaced entry is removed first, so its bytes are free for its successor.
  if (const auto old = table_.find(key); old != table_.end()) {
    ++erased_;
    remove_locked(old);
  }
  if (entry->weight > policy_.max_weight()) {
    ++rejected_;
    return false;
  }

  MemoryEntry& inserted = *entry;
  table_.insert(std::move(entry));
  expiry_.insert(inserted);
  index_locked(inserted, indexes);
  if (!indexes.label.empty()) {
    auto label = labels_.find(indexes.label);
    if (label == labels_.end()) {
      label = labels_.emplace(std::string{indexes.label}, LabelCounters{}).first;
    }
    inserted.label = &label->second;
    ++inserted.label->entries;
    inserted.label->bytes += inserted.weight;
  }
  ++inserts_;

  Victims victims;
  policy_.on_insert(inserted, victims);
  bool kept = true;
  for (PolicyNode* victim : victims) {
    auto& evicted = static_cast<MemoryEntry&>(*victim);
    kept = kept && &evicted != &inserted;
    ++evicted_capacity_;
    count_label_eviction(evicted, true);
    front_.forget(evicted.hash, evicted);
    expiry_.erase(expiry_.iterator_to(evicted));
    unindex_locked(evicted);
    table_.erase(table_.find(HashedKey{evicted.key, evicted.hash}));
  }
  return kept;
}

bool MemoryShard::erase(const HashedKey& key) {
  std::lock_guard lock(mutex_);
  const auto position = table_.find(key);
  if (position == table_.end()) {
    return false;
  }
  ++erased_;
  remove_locked(position);
  return true;
}

std::size_t MemoryShard::erase_family(std::string_view family) {
  std::lock_guard lock(mutex_);
  return erase_group_locked(families_, family);
}

std::size_t MemoryShard::erase_tag(std::string_view tag) {
  std::lock_guard lock(mutex_);
  return erase_group_locked(tags_, tag);
}

void MemoryShard::clear() {
  std::lock_guard lock(mutex_);
  erased_ += table_.size();
  front_.forget_all();
  expiry_.clear();
  while (policy_.evict_one() != nullptr) {
  }
  for (const std::unique_ptr<MemoryEntry>& entry : table_) {
    unindex_locked(*entry);
  }
  table_.clear();
}

void MemoryShard::add_to(MemoryStore::Stats& stats) const {
  std::lock_guard lock(mutex_);
  stats.entries += table_.size();
  stats.bytes += policy_.weight();
  stats.hits += hits_;
  stats.misses += misses_;
  stats.inserts += inserts_;
  stats.rejected += rejected_;
  stats.evicted_capacity += evicted_capacity_;
  stats.evicted_expired += evicted_expired_;
  stats.erased += erased_;
  stats.invalidated += invalidated_;
  stats.replayed_hits += replayed_;
}

void MemoryShard::remove_locked(Table::iterator position) {
  MemoryEntry& entry = **position;
  front_.forget(entry.hash, entry);
  policy_.on_remove(entry);
  expiry_.erase(expiry_.iterator_to(entry));
  unindex_locked(entry);
  table_.erase(position);
}

void MemoryShard::remove_entry_locked(MemoryEntry& entry) {
  remove_locked(table_.find(HashedKey{entry.key, entry.hash}));
}

// Links entry into the group of its family and of each tag, creating groups
// on first use. The tags are distinct, so an entry is in each list once.
void MemoryShard::index_locked(MemoryEntry& entry, const EntryIndexes& indexes) {
  const auto link = [&entry](Index& index, std::string_view name, IndexLink& member) {
    auto group = index.find(name);
    if (group == index.end()) {
      group = index.try_emplace(std::string{name}).first;
      group->second.name = group->first;
    }
    member.entry = &entry;
    member.group = &group->second;
    group->second.members.push_back(member);
  };

  if (!indexes.family.empty()) {
    link(families_, indexes.family, entry.family);
  }
  for (std::size_t i = 0; i < indexes.tags.size(); ++i) {
    link(tags_, indexes.tags[i], entry.tags[i]);
  }
}

// Unlinks entry from every group it is in and frees the groups it leaves
// empty, so no index ever points to a removed entry.
void MemoryShard::add_labels_to(
    std::map<std::string, MemoryStore::LabelStats, std::less<>>& labels) const {
  std::lock_guard lock(mutex_);
  for (const auto& [name, counters] : labels_) {
    MemoryStore::LabelStats& stats = labels[name];
    stats.label = name;
    stats.entries += counters.entries;
    stats.bytes += counters.bytes;
    stats.evicted_capacity += counters.evicted_capacity;
    stats.evicted_expired += counters.evicted_expired;
  }
}

void MemoryShard::count_label_eviction(const MemoryEntry& entry, bool capacity) noexcept {
  if (entry.label == nullptr) {
    return;
  }
  if (capacity) {
    ++entry.label->evicted_capacity;
  } else {
    ++entry.label->evicted_expired;
  }
}

// Every removal path unlinks the entry here, so this is where its label's
// entry and byte counts go down.
void MemoryShard::unindex_locked(MemoryEntry& entry) noexcept {
  if (entry.label != nullptr) {
    --entry.label->entries;
    entry.label->bytes -= entry.weight;
    entry.label = nullptr;
  }
  const auto unlink = [](Index& index, IndexLink& member) noexcept {
    IndexGroup* const group = member.group;
    if (group == nullptr) {
      return;
    }
    group->members.erase(group->members.iterator_to(member));
    member.group = nullptr;
    if (group->members.empty()) {
      index.erase(index.find(group->name));
    }
  };

  unlink(families_, entry.family);
  for (IndexLink& tag : entry.tags) {
    unlink(tags_, tag);
  }
}

// Removes every entry in the group called name. The entries are collected
// first, because removing the last one frees the group.
std::size_t MemoryShard::erase_group_locked(Index& index, std::string_view name) {
  const auto group = index.find(name);
  if (group == index.end()) {
    return 0;
  }

  std::vector<MemoryEntry*> doomed;
  doomed.reserve(group->second.members.size());
  for (IndexLink& member : group->second.members) {
    doomed.push_back(member.entry);
  }
  for (MemoryEntry* entry : doomed) {
    remove_entry_locked(*entry);
  }
  invalidated_ += doomed.size();
  return doomed.size();
}

// Removes up to reclaim_batch entries whose TTL has run out, oldest expiry
// first. Amortised over puts, this keeps expired pages from holding memory
// that live ones could use, without ever scanning the shard.
void MemoryShard::reclaim_expired_locked(Clock::time_point now) {
  for (int i = 0; i < reclaim_batch && !expiry_.empty(); ++i) {
    MemoryEntry& oldest = *expiry_.begin();
    if (oldest.expires_at > now) {
      return;
    }
    ++evicted_expired_;
    count_label_eviction(oldest, false);
    remove_entry_locked(oldest);
  }
}

// Shortens the TTL by a random amount up to max_jitter_, so that entries
// stored together do not all expire, and re-render, in the same instant.
Clock::time_point MemoryShard::expiry_for(Clock::time_point now, std::chrono::milliseconds ttl) {
  if (max_jitter_.count() <= 0) {
    return now + ttl;
  }
  const auto span = static_cast<std::uint64_t>(std::min(max_jitter_, ttl).count());
  const auto cut = std::chrono::milliseconds{
      static_cast<std::int64_t>(next_random(jitter_state_) % (span + 1))};
  return now + std::max(ttl - cut, std::chrono::milliseconds{1});
}

}  // namespace viewcache::detail
