#pragma once

// FrontCache: the hit path of MemoryStore that writes nothing another core
// reads.
//
// A hit on a shard writes shard state: its mutex, the frequency sketch, the
// LRU links and the page's reference count. When two cores hit the same
// shards, each of those cache lines moves between them on nearly every hit,
// and two threads then serve fewer hits than one (viewcache_latency_bench).
//
// So each stripe of threads (thread_stripe.hpp) keeps a direct-mapped table
// of the entries it was recently served. A slot holds the entry's address,
// hash and end of freshness, and the page behind a reference count of the
// stripe's own, so handing the page out touches only the stripe's lines. The
// stripe buffers its hits and the thread that fills the buffer replays them
// into the shards' eviction policy in one batch, as Caffeine's read buffers
// do.
//
// Invariant: a slot points only to an entry that is in its shard's table.
// Slots are filled by the shard, under its mutex, on a fresh hit, and a shard
// clears every slot that points to an entry before the entry leaves its table.
// Both happen under the stripe's mutex too, and lookups hold that mutex, so a
// lookup never returns a removed entry, and an erase, replacement or
// invalidation is visible to the next lookup of every thread. Lock order:
// shard, then stripe.
//
// Trade-off: memory for slots (40 bytes each, allocated when a stripe is
// first used) and one small allocation per slot fill; a thread whose working
// set outgrows its slots falls through to the shard. Buffered hits reach the
// eviction policy late, and are replayed only while their entry is still
// stored.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>

#include "thread_stripe.hpp"
#include "viewcache/clock.hpp"
#include "viewcache/store.hpp"

namespace viewcache::detail {

struct HashedKey;
struct MemoryEntry;

// A hit served by a stripe, not yet seen by the entry's shard. entry is only
// compared, never dereferenced, because the entry may be gone by then.
struct BufferedHit {
  std::uint64_t hash = 0;
  const MemoryEntry* entry = nullptr;
};

struct HitBatch {
  static constexpr std::size_t capacity = 64;
  std::array<BufferedHit, capacity> hits{};
  std::size_t size = 0;
};

class FrontCache {
 public:
  // slots: slots per stripe, a power of two, or zero to turn the front cache
  // off.
  explicit FrontCache(std::size_t slots);
  ~FrontCache();

  FrontCache(const FrontCache&) = delete;
  FrontCache& operator=(const FrontCache&) = delete;

  [[nodiscard]] bool enabled() const noexcept { return slot_count_ != 0; }

  // Returns the page the calling thread's stripe holds for key if it is
  // fresh at now, or an empty Hit. When this hit fills the stripe's buffer,
  // moves the buffered hits into full for the caller to replay with no lock
  // held.
  [[nodiscard]] Store::Hit get(const HashedKey& key, Clock::time_point now, HitBatch& full);

  // Called by the shard of entry, under its mutex, after a fresh hit on it.
  void remember(const HashedKey& key, const MemoryEntry& entry);

  // Called by the shard of entry, under its mutex, before entry leaves the
  // shard's table.
  void forget(std::uint64_t hash, const MemoryEntry& entry) noexcept;

  // Empties every slot of every stripe.
  void forget_all() noexcept;

  // The hits served by the stripes so far.
  [[nodiscard]] std::uint64_t hits() const;

 private:
  struct Slot {
    const MemoryEntry* entry = nullptr;
    std::uint64_t hash = 0;
    Clock::time_point fresh_until{};
    std::shared_ptr<const Page> page;  // its reference count is the stripe's own
  };

  struct alignas(cache_line_bytes) Stripe {
    mutable std::mutex mutex;
    std::unique_ptr<Slot[]> slots;  // nullptr until the stripe is first used
    HitBatch buffer;
    std::uint64_t hits = 0;
  };

  [[nodiscard]] std::size_t index(std::uint64_t hash) const noexcept {
    return static_cast<std::size_t>(hash) & (slot_count_ - 1);
  }

  std::size_t slot_count_ = 0;  // per stripe
  std::unique_ptr<Stripe[]> stripes_;
};

}  // namespace viewcache::detail
