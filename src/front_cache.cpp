#include "front_cache.hpp"

#include "memory_shard.hpp"

namespace viewcache::detail {

FrontCache::FrontCache(std::size_t slots)
    : slot_count_(slots), stripes_(std::make_unique<Stripe[]>(stripe_count())) {}

FrontCache::~FrontCache() = default;

Store::Hit FrontCache::get(const HashedKey& key, Clock::time_point now, HitBatch& full) {
  Stripe& stripe = stripes_[this_thread_stripe()];
  std::lock_guard lock(stripe.mutex);
  if (stripe.slots == nullptr) {
    return {};
  }

  // The entry is in its table (see the invariant), so its key is alive; the
  // key is never written after the entry is stored.
  const Slot& slot = stripe.slots[index(key.hash)];
  if (slot.entry == nullptr || slot.hash != key.hash || slot.fresh_until <= now ||
      slot.entry->key != key.text) {
    return {};
  }

  ++stripe.hits;
  HitBatch& buffer = stripe.buffer;
  buffer.hits[buffer.size++] = {key.hash, slot.entry};
  if (buffer.size == HitBatch::capacity) {
    full = buffer;
    buffer.size = 0;
  }
  return {slot.page,
          std::chrono::duration_cast<std::chrono::milliseconds>(slot.fresh_until - now)};
}

void FrontCache::remember(const HashedKey& key, const MemoryEntry& entry) {
  if (slot_count_ == 0) {
    return;
  }
  Stripe& stripe = stripes_[this_thread_stripe()];
  std::lock_guard lock(stripe.mutex);
  if (stripe.slots == nullptr) {
    stripe.slots = std::make_unique<Slot[]>(slot_count_);
  }

  Slot& slot = stripe.slots[index(key.hash)];
  if (slot.entry == &entry) {
    return;
  }
  // The stripe's own control block owns a reference to the stored page, so
  // copies handed out count on a line that only this stripe writes.
  auto owner = std::make_shared<const std::shared_ptr<const Page>>(entry.page);
  const Page* const page = owner->get();
  slot = {&entry, key.hash, entry.fresh_until, std::shared_ptr<const Page>(std::move(owner), page)};
}

void FrontCache::forget(std::uint64_t hash, const MemoryEntry& entry) noexcept {
  if (slot_count_ == 0) {
    return;
  }
  for (std::size_t i = 0; i < stripe_count(); ++i) {
    Stripe& stripe = stripes_[i];
    std::lock_guard lock(stripe.mutex);
    if (stripe.slots != nullptr && stripe.slots[index(hash)].entry == &entry) {
      stripe.slots[index(hash)] = {};
    }
  }
}

void FrontCache::forget_all() noexcept {
  for (std::size_t i = 0; i < stripe_count(); ++i) {
    Stripe& stripe = stripes_[i];
    std::lock_guard lock(stripe.mutex);
    stripe.slots.reset();
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
