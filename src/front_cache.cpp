#include "front_cache.hpp"

#include <algorithm>

#include "memory_shard.hpp"

namespace viewcache::detail {

FrontCache::FrontCache(std::size_t slots)
    : set_count_(slots == 0 ? 0 : std::max<std::size_t>(slots / 2, 1)),
      stripes_(std::make_unique<Stripe[]>(stripe_count())) {}

FrontCache::~FrontCache() = default;

Store::Hit FrontCache::get(const HashedKey& key, Clock::time_point now, HitBatch& full) {
  Stripe& stripe = stripes_[this_thread_stripe()];
  std::lock_guard lock(stripe.mutex);
  if (stripe.sets == nullptr) {
    return {};
  }

  // The entry is in its table (see the invariant), so its key is alive; the
  // key is never written after the entry is stored.
  Set& set = stripe.sets[index(key.hash)];
  const auto way = std::find_if(set.ways.begin(), set.ways.end(), [&key](const Slot& slot) {
    return slot.entry != nullptr && slot.hash == key.hash && slot.entry->key == key.text;
  });
  if (way == set.ways.end() || way->fresh_until <= now) {
    return {};
  }
  set.last_used = static_cast<std::uint8_t>(way - set.ways.begin());

  ++stripe.hits;
  buffer_hit(stripe, {key.hash, way->entry}, now, full);
  return {way->page, std::chrono::duration_cast<std::chrono::milliseconds>(way->fresh_until - now)};
}

void FrontCache::buffer_hit(Stripe& stripe, BufferedHit hit, Clock::time_point now,
                            HitBatch& full) noexcept {
  HitBatch& buffer = stripe.buffer;
  if (buffer.size < HitBatch::capacity) {
    buffer.hits[buffer.size++] = hit;
  } else {
    ++stripe.dropped;
  }
  if (buffer.size < HitBatch::capacity) {
    return;
  }

  if (now >= stripe.next_replay || stripe.dropped >= HitBatch::max_dropped) {
    full = buffer;
    buffer.size = 0;
    stripe.dropped = 0;
    stripe.next_replay = now + HitBatch::replay_interval;
  }
}

void FrontCache::remember(const HashedKey& key, const MemoryEntry& entry) {
  if (set_count_ == 0) {
    return;
  }
  Stripe& stripe = stripes_[this_thread_stripe()];
  std::lock_guard lock(stripe.mutex);
  if (stripe.sets == nullptr) {
    stripe.sets = std::make_unique<Set[]>(set_count_);
  }

  Set& set = stripe.sets[index(key.hash)];
  if (set.ways[0].entry == &entry || set.ways[1].entry == &entry) {
    return;
  }
  const std::uint8_t victim = set.ways[0].entry == nullptr ? 0 : (set.last_used ^ 1U);
  // The stripe's own control block owns a reference to the stored page, so
  // copies handed out count on a line that only this stripe writes.
  auto owner = std::make_shared<const std::shared_ptr<const Page>>(entry.page);
  const Page* const page = owner->get();
  set.ways[victim] = {&entry, key.hash, entry.fresh_until,
                      std::shared_ptr<const Page>(std::move(owner), page)};
  set.last_used = victim;
}

void FrontCache::forget(std::uint64_t hash, const MemoryEntry& entry) noexcept {
  if (set_count_ == 0) {
    return;
  }
  for (std::size_t i = 0; i < stripe_count(); ++i) {
    Stripe& stripe = stripes_[i];
    std::lock_guard lock(stripe.mutex);
    if (stripe.sets == nullptr) {
      continue;
    }
    for (Slot& slot : stripe.sets[index(hash)].ways) {
      if (slot.entry == &entry) {
        slot = {};
      }
    }
  }
}

void FrontCache::forget_all() noexcept {
  for (std::size_t i = 0; i < stripe_count(); ++i) {
    Stripe& stripe = stripes_[i];
    std::lock_guard lock(stripe.mutex);
    stripe.sets.reset();
  }
}

std::uint64_t FrontCache::hits() const {
  std::uint64_t hits = 0;
  for (std::size_t i = 0; i < stripe_count(); ++i) {
    std::lock_guard lock(stripes_[i].mutex);
    hits += stripes_[i].hits;
  }
  return hits;
}

}  // namespace viewcache::detail
