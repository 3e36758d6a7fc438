#pragma once

// MemoryStore: a sharded, thread-safe, in-process Store bounded by bytes.
//
// Keys are spread over a power-of-two number of shards, each guarded by its own
// mutex, so threads that touch different shards do not contend. Each entry has
// its own TTL measured on an injectable monotonic Clock, optionally shortened
// by a random jitter. The byte budget counts what each entry occupies (see
// charge()): key, page, the heap blocks behind them and the store's own
// per-entry structures. It is enforced per shard (max_bytes / shards each),
// so the sum over shards never exceeds max_bytes. A page larger than one
// shard's budget is not stored.
//
// Eviction is W-TinyLFU with an adaptive window (src/eviction/w_tinylfu.hpp).
// New pages enter a small LRU window. A page leaving it displaces an older one
// only if it has been requested more often recently, so scans and floods of
// one-time URLs do not flush popular pages. Expired entries are never
// returned; they are removed when looked up and, a few at a time, on every put,
// in order of expiry, without scanning the store.
//
// Repeated hits skip the shard: each group of threads keeps a small table of
// the pages it was served recently, with reference counts of its own, so
// threads on different cores serve hits without writing to the same cache
// lines. Erases, replacements and invalidations clear those tables before
// they return (src/front_cache.hpp).
//
// Invalidation is indexed: each shard maps every family and tag to the list
// of its entries, so erase_family() and erase_tag() lock each shard once and
// touch only the entries they remove. Entries leave these lists whenever they
// leave the store (eviction, expiry, erase, replacement, clear).
//
// Keys are hashed with a per-store random seed, so keys crafted to collide in
// one process do not collide in another.
//
//   auto store = std::make_shared<viewcache::MemoryStore>(
//       viewcache::MemoryStore::Options{.max_bytes = 256 << 20});

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "viewcache/clock.hpp"
#include "viewcache/store.hpp"

namespace viewcache {

namespace detail {
class FrontCache;
class MemoryShard;
struct HitBatch;
}

class MemoryStore final : public Store {
 public:
  struct Options {
    // The maximum bytes all entries may occupy together. 64 MiB fits a few
    // thousand typical pages, a reasonable start for one web process.
    std::size_t max_bytes = std::size_t{64} << 20;

    // The number of shards. A power of two from 1 to 4096. More shards mean
    // less lock contention but a smaller per-shard budget, so the largest
    // storable page is max_bytes / shards.
    std::size_t shards = 16;

    // The time source for TTLs. nullptr selects steady_clock().
    std::shared_ptr<const Clock> clock;

    // Each entry's TTL is shortened by a random amount from zero to this
    // (capped at the TTL), so pages stored in one burst do not all expire at
    // once. Zero, the default, keeps TTLs exact.
    std::chrono::milliseconds ttl_jitter{0};

    // The seed of the key hash. Zero, the default, picks a random seed, which
    // is what protects against crafted collisions; set it only for
    // reproducible tests.
    std::uint64_t hash_seed = 0;

    // The typical size of a stored page, to size the eviction policy's
    // frequency sketch before it has seen real pages. It grows with the real
    // entry count either way.
    std::size_t expected_page_bytes = 16 * 1024;

    // Slots of each thread group's front table: a power of two up to 2^20,
    // or zero to serve every hit from its shard. A table is allocated when
    // its group first hits, at 44 bytes a slot, and a slot in use adds a
    // 48-byte reference block. There are about twice as many groups as
    // hardware threads, so the default takes up to 370 KiB per group (1.5 MiB
    // on a 2-core machine), outside max_bytes. Pages in the tables are
    // always in the store too, so they cost no page memory beyond max_bytes.
    std::size_t front_slots = 4096;
  };

  // A plain snapshot of counters, summed over shards. Taken shard by shard,
  // so it is not one atomic instant when other threads are writing.
  struct Stats {
    std::size_t entries = 0;
    std::size_t bytes = 0;
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
    std::uint64_t inserts = 0;
    std::uint64_t rejected = 0;           // pages larger than a shard's budget
    std::uint64_t evicted_capacity = 0;   // removed by the eviction policy to make room,
                                          // new pages that lost admission included
    std::uint64_t evicted_expired = 0;    // removed because their TTL ran out
    std::uint64_t erased = 0;             // removed by erase() or replaced by put()
    std::uint64_t invalidated = 0;        // removed by erase_family() or erase_tag()
    std::uint64_t front_hits = 0;         // hits served by the front tables, within hits
    std::uint64_t replayed_hits = 0;      // front hits replayed into the eviction policy
  };

  // The fixed bytes charged for each entry: the entry's heap block (with its
  // family link), its hash table slot at the table's lowest load, and its
  // share of the eviction policy's frequency sketch. charge() adds the share
  // of the policy's shadow caches, which depends on the store's options.
  static const std::size_t entry_overhead;

  // The bytes charged for each index an entry joins (its family, if any, and
  // each of its tags), beyond the name's length: a tag link and an index
  // node. An index node is shared by every entry of its family or tag, but
  // each entry is charged for a whole one, so the budget is kept even when no
  // two entries share a name. The entry weight is therefore an upper bound.
  static const std::size_t index_overhead;

  // Returns the bytes put() charges against max_bytes for page under key.
  // That is the key, Page::byte_size() and the heap blocks behind both (as
  // glibc's malloc rounds them), plus entry_overhead and the eviction
  // policy's shadow caches' share. The family and each distinct tag add
  // index_overhead and their name. The heap blocks are estimated from the
  // strings' and vectors' capacities, so the charge covers what the entry
  // occupies as long as the page was made with std::make_shared. The shadow
  // caches' share is larger when pages are much smaller than
  // Options::expected_page_bytes.
  [[nodiscard]] std::size_t charge(std::string_view key, const Page& page,
                                   const PutOptions& options = {}) const;

  // Bytes and evictions of the entries put with one StorePutOptions::label.
  struct LabelStats {
    std::string label;
    std::size_t entries = 0;
    std::size_t bytes = 0;
    std::uint64_t evicted_capacity = 0;
    std::uint64_t evicted_expired = 0;
  };

  // Returns the counters of every label seen so far, summed over shards and
  // sorted by label. Locks every shard, one at a time.
  [[nodiscard]] std::vector<LabelStats> label_stats() const;

  // Returns the seeded hash of key, as this store computes it.
  [[nodiscard]] std::uint64_t hash(std::string_view key) const noexcept;

  // Throws std::invalid_argument naming the field when shards is not a power
  // of two in [1, 4096], max_bytes is smaller than shards, ttl_jitter is
  // negative, or front_slots is neither zero nor a power of two up to 2^20.
  MemoryStore();
  explicit MemoryStore(Options options);
  ~MemoryStore() override;

  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;

  // Average O(1). A repeated hit locks only the calling thread's front
  // table; other lookups lock one shard. Records the access for the eviction
  // policy, for front-table hits in batches.
  [[nodiscard]] Hit get(std::string_view key) override;

  // Average O(1 + tags) plus the evictions it causes; locks one shard.
  bool put(std::string_view key, std::shared_ptr<const Page> page,
           std::chrono::milliseconds ttl, const PutOptions& options = {}) override;

  bool erase(std::string_view key) override;

  // Locks every shard, one at a time. Average O(shards + entries removed);
  // entries of other families are not visited.
  std::size_t erase_family(std::string_view family) override;

  // Locks every shard, one at a time. Average O(shards + entries removed);
  // entries without the tag are not visited.
  std::size_t erase_tag(std::string_view tag) override;

  // Locks every shard, one at a time.
  void clear() override;

  // Locks every shard, one at a time.
  [[nodiscard]] Stats stats() const;

  [[nodiscard]] const Options& options() const noexcept { return options_; }

 private:
  [[nodiscard]] std::size_t shard_index(std::uint64_t hash) const noexcept;
  [[nodiscard]] detail::MemoryShard& shard_for(std::uint64_t hash) const noexcept;

  void replay(const detail::HitBatch& batch);

  Options options_;
  int shard_bits_ = 0;
  // Declared before the shards, which clear it when they are destroyed.
  std::unique_ptr<detail::FrontCache> front_;
  std::vector<std::unique_ptr<detail::MemoryShard>> shards_;
};

}  // namespace viewcache
