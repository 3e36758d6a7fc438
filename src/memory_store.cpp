#include "viewcache/memory_store.hpp"

#include <fmt/format.h>

// Compiled into this file, so the library needs no xxhash at link time.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <boost/container/small_vector.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <bitset>
#include <map>
#include <random>
#include <stdexcept>

#include "memory_shard.hpp"

namespace viewcache {
namespace {

constexpr std::size_t max_shards = 4096;
constexpr std::size_t max_front_slots = std::size_t{1} << 20;

// The control block that std::make_shared puts in front of a Page: two
// reference counts and a vtable pointer on the common ABIs. An estimate,
// because the standard does not fix its layout.
constexpr std::size_t shared_control_block_bytes = 16;

// The hash table slot plus its one metadata byte. Tables keep some slots
// empty (Boost's flat containers fill at most 7/8), so this is a lower bound.
constexpr std::size_t table_slot_bytes = sizeof(std::unique_ptr<detail::MemoryEntry>) + 1;

// A node of std::unordered_map in libstdc++: the value, the next pointer and
// the cached hash, plus one bucket pointer, at the load factor of 1 it keeps.
// An estimate, because the standard does not fix the layout.
constexpr std::size_t index_node_bytes =
    sizeof(detail::Index::value_type) + 2 * sizeof(void*) + sizeof(std::size_t);

// Tags most pages carry fit without a heap allocation.
using TagViews = boost::container::small_vector<std::string_view, 8>;

// Returns the distinct, non-empty tags, so that an entry joins each tag's
// list once.
TagViews distinct_tags(std::span<const std::string> tags) {
  TagViews distinct;
  for (const std::string& tag : tags) {
    if (!tag.empty()) {
      distinct.emplace_back(tag);
    }
  }
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  return distinct;
}

void validate(const MemoryStore::Options& options) {
  if (options.shards == 0 || options.shards > max_shards || !std::has_single_bit(options.shards)) {
    throw std::invalid_argument(fmt::format(
        "MemoryStore::Options::shards is {}; use a power of two from 1 to {}, such as 16",
        options.shards, max_shards));
  }
  if (options.ttl_jitter.count() < 0) {
    throw std::invalid_argument(fmt::format(
        "MemoryStore::Options::ttl_jitter is {} ms; use zero for exact TTLs or a positive "
        "duration, such as std::chrono::seconds{{5}}",
        options.ttl_jitter.count()));
  }
  if (options.front_slots > max_front_slots ||
      (options.front_slots != 0 && !std::has_single_bit(options.front_slots))) {
    throw std::invalid_argument(fmt::format(
        "MemoryStore::Options::front_slots is {}; use zero to turn the front tables off or a "
        "power of two up to {}, such as 4096",
        options.front_slots, max_front_slots));
  }
  if (options.max_bytes < options.shards) {
    throw std::invalid_argument(fmt::format(
        "MemoryStore::Options::max_bytes is {}, smaller than shards ({}); "
        "give each shard room for at least one page, such as 64 MiB in all",
        options.max_bytes, options.shards));
  }
}

}  // namespace

const std::size_t MemoryStore::entry_overhead =
    sizeof(detail::MemoryEntry) + table_slot_bytes + shared_control_block_bytes;

const std::size_t MemoryStore::index_overhead = sizeof(detail::IndexLink) + index_node_bytes;

MemoryStore::MemoryStore() : MemoryStore(Options{}) {}

MemoryStore::MemoryStore(Options options) : options_(std::move(options)) {
  validate(options_);
  if (options_.clock == nullptr) {
    options_.clock = steady_clock();
  }
  if (options_.hash_seed == 0) {
    std::random_device device;
    options_.hash_seed = (std::uint64_t{device()} << 32U) | device() | 1U;
  }
  shard_bits_ = std::countr_zero(options_.shards);
  front_ = std::make_unique<detail::FrontCache>(options_.front_slots);

  const std::size_t shard_bytes = options_.max_bytes / options_.shards;
  const std::size_t expected_entries =
      shard_bytes / std::max<std::size_t>(options_.expected_page_bytes, 1) + 1;
  shards_.reserve(options_.shards);
  for (std::size_t i = 0; i < options_.shards; ++i) {
    shards_.push_back(std::make_unique<detail::MemoryShard>(
        shard_bytes, expected_entries, *options_.clock, options_.ttl_jitter,
        options_.hash_seed + i, *front_));
  }
}

MemoryStore::~MemoryStore() = default;

Store::Hit MemoryStore::get(std::string_view key) {
  const detail::HashedKey hashed{key, hash(key)};
  const Clock::time_point now = options_.clock->now();
  detail::HitBatch full;
  if (Hit hit = front_->get(hashed, now, full)) {
    if (full.size != 0) {
      replay(full);
    }
    return hit;
  }
  return shard_for(hashed.hash).get(hashed, now);
}

// Hands each shard its share of the batch under one lock, so a replay costs
// a lock per shard rather than per hit.
void MemoryStore::replay(const detail::HitBatch& batch) {
  std::array<std::size_t, detail::HitBatch::capacity> shard_of;
  for (std::size_t i = 0; i < batch.size; ++i) {
    shard_of[i] = shard_index(batch.hits[i].hash);
  }

  std::array<detail::BufferedHit, detail::HitBatch::capacity> shard_hits;
  std::bitset<detail::HitBatch::capacity> done;
  for (std::size_t first = 0; first < batch.size; ++first) {
    if (done[first]) {
      continue;
    }
    std::size_t count = 0;
    for (std::size_t i = first; i < batch.size; ++i) {
      if (shard_of[i] == shard_of[first]) {
        shard_hits[count++] = batch.hits[i];
        done.set(i);
      }
    }
    shards_[shard_of[first]]->replay_hits({shard_hits.data(), count});
  }
}

bool MemoryStore::put(std::string_view key, std::shared_ptr<const Page> page,
                      std::chrono::milliseconds ttl, const PutOptions& options) {
  if (page == nullptr) {
    return false;
  }

  // Index names are copied into the shard's indexes, so they are charged
  // with the entry (index_overhead explains why per entry).
  const TagViews tags = distinct_tags(options.tags);
  std::size_t weight = key.size() + page->byte_size() + entry_overhead;
  if (!options.family.empty()) {
    weight += index_overhead + options.family.size();
  }
  for (const std::string_view tag : tags) {
    weight += index_overhead + tag.size();
  }

  const detail::HashedKey hashed{key, hash(key)};
  return shard_for(hashed.hash).put(hashed, std::move(page), ttl, weight,
                                    {.family = options.family,
                                     .tags = tags,
                                     .stale_for = std::max(options.stale_for,
                                                           std::chrono::milliseconds{0}),
                                     .label = options.label});
}

bool MemoryStore::erase(std::string_view key) {
  const detail::HashedKey hashed{key, hash(key)};
  return shard_for(hashed.hash).erase(hashed);
}

std::size_t MemoryStore::erase_family(std::string_view family) {
  std::size_t removed = 0;
  for (const auto& shard : shards_) {
    removed += shard->erase_family(family);
  }
  return removed;
}

std::size_t MemoryStore::erase_tag(std::string_view tag) {
  std::size_t removed = 0;
  for (const auto& shard : shards_) {
    removed += shard->erase_tag(tag);
  }
  return removed;
}

void MemoryStore::clear() {
  for (const auto& shard : shards_) {
    shard->clear();
  }
}

std::vector<MemoryStore::LabelStats> MemoryStore::label_stats() const {
  std::map<std::string, LabelStats, std::less<>> merged;
  for (const auto& shard : shards_) {
    shard->add_labels_to(merged);
  }
  std::vector<LabelStats> labels;
  labels.reserve(merged.size());
  for (auto& [name, stats] : merged) {
    labels.push_back(std::move(stats));
  }
  return labels;
}

MemoryStore::Stats MemoryStore::stats() const {
  Stats stats;
  for (const auto& shard : shards_) {
    shard->add_to(stats);
  }
  stats.hits += front_->hits();
  return stats;
}

// XXH3 with the store's seed: seed-dependent, so keys that collide in one
// store do not collide in another, and about five times faster than Boost's
// seeded hash_range on an 83-byte key (bench/contenders, perf).
std::uint64_t MemoryStore::hash(std::string_view key) const noexcept {
  return XXH3_64bits_withSeed(key.data(), key.size(), options_.hash_seed);
}

// The shard comes from the high bits of the hash, and each shard's table uses
// the low bits, so the two choices stay independent.
std::size_t MemoryStore::shard_index(std::uint64_t hash) const noexcept {
  return shard_bits_ == 0 ? 0 : static_cast<std::size_t>(hash >> (64 - shard_bits_));
}

detail::MemoryShard& MemoryStore::shard_for(std::uint64_t hash) const noexcept {
  return *shards_[shard_index(hash)];
}

}  // namespace viewcache
