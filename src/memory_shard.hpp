#pragma once

// One shard of MemoryStore: a hash set of entries, the W-TinyLfu eviction
// policy, an expiry index, and the family and tag indexes, all guarded by one
// mutex. Every member function locks the mutex itself. The store's
// FrontCache serves most repeated hits without the shard; the shard keeps it
// consistent (see the invariant in front_cache.hpp).

#include <boost/container_hash/hash.hpp>
#include <boost/intrusive/list.hpp>
#include <boost/intrusive/set.hpp>
#include <boost/unordered/unordered_flat_set.hpp>

#include <bit>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "eviction/w_tinylfu.hpp"
#include "front_cache.hpp"
#include "viewcache/memory_store.hpp"

namespace viewcache::detail {

// A key with its seeded hash, computed once per store call and used both to
// pick the shard and to probe the shard's table.
struct HashedKey {
  std::string_view text;
  std::uint64_t hash = 0;
};

struct ExpiryTag;
using ExpiryHook =
    boost::intrusive::set_base_hook<boost::intrusive::tag<ExpiryTag>,
                                    boost::intrusive::optimize_size<true>>;

struct MemoryEntry;
struct IndexGroup;

// One membership of an entry in a family or tag index: a node of the
// group's list that points back to its entry.
struct IndexLink {
  boost::intrusive::list_member_hook<> hook;
  MemoryEntry* entry = nullptr;
  IndexGroup* group = nullptr;  // nullptr while not linked
};

using IndexList = boost::intrusive::list<
    IndexLink,
    boost::intrusive::member_hook<IndexLink, boost::intrusive::list_member_hook<>,
                                  &IndexLink::hook>>;

// The entries of one family or one tag within a shard.
struct IndexGroup {
  std::string_view name;  // the index's key for this group, which outlives it
  IndexList members;
};

// Seeded like the store's key hash, because families come from request paths
// that a client chooses, and names crafted to collide under a fixed hash
// would make every index lookup in their bucket linear.
struct StringHash {
  using is_transparent = void;
  std::size_t seed = 0;
  std::size_t operator()(std::string_view text) const noexcept {
    std::size_t hash = seed;
    boost::hash_range(hash, text.begin(), text.end());
    return hash;
  }
};

// Node-based, so a group's address is stable while entries link to it.
using Index = std::unordered_map<std::string, IndexGroup, StringHash, std::equal_to<>>;

// The counters of one StorePutOptions::label in one shard.
struct LabelCounters {
  std::size_t entries = 0;
  std::size_t bytes = 0;
  std::uint64_t evicted_capacity = 0;
  std::uint64_t evicted_expired = 0;
};

struct MemoryEntry : PolicyNode, ExpiryHook {
  std::string key;
  std::shared_ptr<const Page> page;
  Clock::time_point fresh_until;  // end of the TTL
  Clock::time_point expires_at;   // fresh_until plus PutOptions::stale_for
  IndexLink family;
  std::vector<IndexLink> tags;  // sized once before linking, never resized
  LabelCounters* label = nullptr;  // owned by the shard; nullptr for no label
};

// The names put() indexes an entry under: a family (empty for none) and
// distinct, non-empty tags.
struct EntryIndexes {
  std::string_view family;
  std::span<const std::string_view> tags;
  std::chrono::milliseconds stale_for{0};  // kept this long after the TTL
  std::string_view label;
};

class MemoryShard {
 public:
  MemoryShard(std::size_t max_bytes, std::size_t expected_entries, const Clock& clock,
              std::chrono::milliseconds max_jitter, std::uint64_t seed, FrontCache& front);
  ~MemoryShard();

  MemoryShard(const MemoryShard&) = delete;
  MemoryShard& operator=(const MemoryShard&) = delete;

  [[nodiscard]] Store::Hit get(const HashedKey& key, Clock::time_point now);

  // The eviction policy's memory per entry beyond entry_overhead (its shadow
  // caches). Fixed at construction, so it needs no lock.
  [[nodiscard]] std::size_t policy_bytes_per_entry() const noexcept {
    return policy_.shadow_bytes_per_entry();
  }

  // Tells the eviction policy about hits the front cache served, skipping
  // those whose entry has left the shard since.
  void replay_hits(std::span<const BufferedHit> hits);
  bool put(const HashedKey& key, std::shared_ptr<const Page> page, std::chrono::milliseconds ttl,
           std::size_t weight, const EntryIndexes& indexes);
  bool erase(const HashedKey& key);
  std::size_t erase_family(std::string_view family);
  std::size_t erase_tag(std::string_view tag);
  void clear();
  void add_to(MemoryStore::Stats& stats) const;
  void add_labels_to(std::map<std::string, MemoryStore::LabelStats, std::less<>>& labels) const;

 private:
  // The table stores owning pointers and hashes an entry by its cached hash,
  // so a rehash never rehashes key bytes. Lookups by HashedKey are
  // heterogeneous: no entry or string is built to probe.
  //
  // The store picks the shard by the hash's top bits, and Boost's flat tables
  // place a key by its top bits too, so the table gets the hash rotated by 32
  // bits. Unrotated, every key of a shard would start its probe in the same
  // part of the table, and lookups slowed down as the shard filled.
  struct EntryHash {
    using is_transparent = void;
    using is_avalanching = void;  // the hash is mixed already
    static std::size_t table_hash(std::uint64_t hash) noexcept { return std::rotl(hash, 32); }
    std::size_t operator()(const std::unique_ptr<MemoryEntry>& entry) const noexcept {
      return table_hash(entry->hash);
    }
    std::size_t operator()(const HashedKey& key) const noexcept { return table_hash(key.hash); }
    std::size_t operator()(const BufferedHit& hit) const noexcept { return table_hash(hit.hash); }
  };
  struct EntryEqual {
    using is_transparent = void;
    bool operator()(const std::unique_ptr<MemoryEntry>& a,
                    const std::unique_ptr<MemoryEntry>& b) const noexcept {
      return a == b;
    }
    bool operator()(const HashedKey& key, const std::unique_ptr<MemoryEntry>& entry) const noexcept {
      return key.hash == entry->hash && key.text == entry->key;
    }
    bool operator()(const std::unique_ptr<MemoryEntry>& entry, const HashedKey& key) const noexcept {
      return (*this)(key, entry);
    }
    // By address only: a buffered hit's entry may have been freed.
    bool operator()(const BufferedHit& hit, const std::unique_ptr<MemoryEntry>& entry) const noexcept {
      return hit.entry == entry.get();
    }
    bool operator()(const std::unique_ptr<MemoryEntry>& entry, const BufferedHit& hit) const noexcept {
      return (*this)(hit, entry);
    }
  };
  using Table = boost::unordered_flat_set<std::unique_ptr<MemoryEntry>, EntryHash, EntryEqual>;

  struct ExpiresAt {
    using type = Clock::time_point;
    type operator()(const MemoryEntry& entry) const noexcept { return entry.expires_at; }
  };
  // Entries ordered by expiry, so expired ones are found without a scan.
  using ExpiryIndex =
      boost::intrusive::multiset<MemoryEntry, boost::intrusive::base_hook<ExpiryHook>,
                                 boost::intrusive::key_of_value<ExpiresAt>>;

  void remove_locked(Table::iterator position);
  static void count_label_eviction(const MemoryEntry& entry, bool capacity) noexcept;
  void remove_entry_locked(MemoryEntry& entry);
  void index_locked(MemoryEntry& entry, const EntryIndexes& indexes);
  void unindex_locked(MemoryEntry& entry) noexcept;
  std::size_t erase_group_locked(Index& index, std::string_view name);
  void reclaim_expired_locked(Clock::time_point now);
  [[nodiscard]] Clock::time_point expiry_for(Clock::time_point now, std::chrono::milliseconds ttl);

  mutable std::mutex mutex_;
  const Clock& clock_;
  FrontCache& front_;
  const std::chrono::milliseconds max_jitter_;
  std::uint64_t jitter_state_;

  // The destructor empties the policy and the indexes before the table frees
  // the entries they link.
  Table table_;
  WTinyLfu policy_;
  ExpiryIndex expiry_;
  Index families_;
  Index tags_;

  // Counters per label. A node map, so entries can point into it; labels are
  // few and never removed.
  std::map<std::string, LabelCounters, std::less<>> labels_;

  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
  std::uint64_t inserts_ = 0;
  std::uint64_t rejected_ = 0;
  std::uint64_t evicted_capacity_ = 0;
  std::uint64_t evicted_expired_ = 0;
  std::uint64_t erased_ = 0;
  std::uint64_t invalidated_ = 0;
  std::uint64_t replayed_ = 0;
};

}  // namespace viewcache::detail
