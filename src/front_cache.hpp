#pragma once

// FrontCache: the hit path of MemoryStore that writes nothing another core
// reads.
//
// A hit on a shard writes shard state: its mutex, the frequency sketch, the
// LRU links and the page's reference count. When two cores hit the same
// shards, each of those cache lines moves between them on nearly every hit,
// and two threads then serve fewer hits than one (viewcache_latency_bench).
//
// So each stripe of threads (thread_stripe.hpp) keeps a two-way
// set-associative table of the entries it was recently served. A slot holds the entry's address,
// hash and end of freshness, and the page behind a reference count of the
// stripe's own, so handing the page out touches only the stripe's lines.
//
// The eviction policy still needs to see hits, and telling it writes the
// shard's sketch and LRU links, the very lines the front table spares. So a
// stripe buffers its hits and the thread that fills the buffer replays them in
// one batch, at most once per replay_interval (or sooner once it has dropped
// max_dropped hits). Hits beyond the buffer in that interval are dropped. At
// the request rates of one web process this records every hit; under a flood
// of hits the policy sees a sample, which is the trade-off Caffeine makes
// with its lossy read buffers.
//
// Invariant: a slot points only to an entry that is in its shard's table.
// Slots are filled by the shard, under its mutex, on a fresh hit, and a shard
// clears every slot that points to an entry before the entry leaves its table.
// Both happen under the stripe's mutex too, and lookups hold that mutex, so a
// lookup never returns a removed entry, and an erase, replacement or
// invalidation is visible to the next lookup of every thread. Lock order:
// shard, then stripe.
//
// Trade-off: memory for slots (44 bytes each with their set's bookkeeping,
// allocated when a stripe is first used) and one small allocation per slot
// fill; a thread whose working
// set outgrows its slots falls through to the shard. Buffered hits reach the
// eviction policy late, and are replayed only while their entry is still
// stored.

#include <array>
#include <chrono>
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
// Trivial, so that a HitBatch on the stack costs nothing until it is filled.
struct BufferedHit {
  std::uint64_t hash;
  const MemoryEntry* entry;
};

struct HitBatch {
  static constexpr std::size_t capacity = 64;

  // The shortest time between two replays of one stripe's buffer, unless it
  // dropped max_dropped hits meanwhile. A replay writes the shards' sketch and
  // LRU links, which other cores read. So under a flood of hits only one in
  // 4,096 gets through. In viewcache_latency_bench, a floor of one in 16 kept
  // two threads at 0.94 times the hits of one, and one in 256 at 1.66 times.
  static constexpr std::chrono::milliseconds replay_interval{1};
  static constexpr std::size_t max_dropped = capacity * 4095;

  std::array<BufferedHit, capacity> hits;  // the first size are set
  std::size_t size = 0;
};

class FrontCache {
 public:
  // slots: slots per stripe, a power of two, or zero to turn the front cache
  // off. One slot is rounded up to two.
  explicit FrontCache(std::size_t slots);
  ~FrontCache();

  FrontCache(const FrontCache&) = delete;
  FrontCache& operator=(const FrontCache&) = delete;

  [[nodiscard]] bool enabled() const noexcept { return set_count_ != 0; }

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

  // The two slots a hash may occupy, and which of them was used last, so a
  // new entry replaces the other one (LRU within the set).
  struct Set {
    std::array<Slot, 2> ways;
    std::uint8_t last_used = 0;
  };

  struct alignas(cache_line_bytes) Stripe {
    mutable std::mutex mutex;
    std::unique_ptr<Set[]> sets;  // nullptr until the stripe is first used
    HitBatch buffer;
    std::uint64_t hits = 0;
    std::size_t dropped = 0;  // hits not buffered since the last replay
    Clock::time_point next_replay{};
  };

  // Adds hit to the stripe's buffer, or drops it when the buffer is full.
  // Moves the buffer into full when it is due for a replay.
  static void buffer_hit(Stripe& stripe, BufferedHit hit, Clock::time_point now,
                         HitBatch& full) noexcept;

  [[nodiscard]] std::size_t index(std::uint64_t hash) const noexcept {
    return static_cast<std::size_t>(hash) & (set_count_ - 1);
  }

  std::size_t set_count_ = 0;  // per stripe; zero when the front cache is off
  std::unique_ptr<Stripe[]> stripes_;
};

}  // namespace viewcache::detail
