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

// Heap blocks as glibc's malloc hands them out: an 8-byte header, rounded up
// to 16 bytes, at least 32. An estimate for other allocators, whose size
// classes round by similar amounts.
constexpr std::size_t heap_block_bytes(std::size_t requested) noexcept {
  return std::max<std::size_t>(32, (requested + 8 + 15) & ~std::size_t{15});
}

// The bytes a heap block of requested bytes takes beyond used of them.
constexpr std::size_t heap_slack(std::size_t requested, std::size_t used) noexcept {
  return requested == 0 ? 0 : heap_block_bytes(requested) - used;
}

// The control block that std::make_shared puts in front of a Page: two
// reference counts and a vtable pointer on the common ABIs. An estimate,
// because the standard does not fix its layout.
constexpr std::size_t shared_control_block_bytes = 16;

// The hash table slot plus its one metadata byte, at the lowest load the
// table has right after it doubles (Boost's flat containers grow at 7/8
// full, so 7/16).
constexpr std::size_t table_slot_bytes =
    ((sizeof(std::unique_ptr<detail::MemoryEntry>) + 1) * 16 + 6) / 7;

// The frequency sketch has one 8-byte word per entry, rounded up to a power
// of two, so at most two words per entry.
constexpr std::size_t sketch_bytes = 2 * sizeof(std::uint64_t);

// The bytes a string holds beyond its size: its heap block, if it has one.
std::size_t string_slack(const std::string& text) noexcept {
  const auto* const object = reinterpret_cast<const char*>(&text);
  const bool inline_buffer = text.data() >= object && text.data() < object + sizeof(text);
  return inline_buffer ? 0 : heap_slack(text.capacity() + 1, text.size());
}

// The bytes a vector holds beyond size() elements: its heap block.
template <typename T>
std::size_t vector_slack(const std::vector<T>& items) noexcept {
  return heap_slack(items.capacity() * sizeof(T), items.size() * sizeof(T));
}

// The heap bytes of page beyond Page::byte_size(), which counts the object
// and the bytes of its strings but not the blocks that hold them.
std::size_t page_heap_slack(const Page& page) noexcept {
  std::size_t slack = heap_slack(shared_control_block_bytes + sizeof(Page), sizeof(Page)) +
                      string_slack(page.body) + vector_slack(page.headers) +
                      vector_slack(page.slots) + vector_slack(page.tags);
  for (const Header& header : page.headers) {
    slack += string_slack(header.name) + string_slack(header.value);
  }
  for (const Slot& slot : page.slots) {
    slack += string_slack(slot.name);
  }
  for (const std::string& tag : page.tags) {
    slack += string_slack(tag);
  }
  return slack;
}

// The bytes of the entry's copy of key beyond its size.
std::size_t key_slack(std::string_view key) noexcept {
  constexpr std::size_t inline_capacity = 15;  // libstdc++ and libc++ keep at least this inline
  return key.size() <= inline_capacity ? 0 : heap_slack(key.size() + 1, key.size());
}

// A node of std::unordered_map in libstdc++: the value, the next pointer and
// the cached hash in one heap block, plus one bucket pointer, at the load
// factor of 1 it keeps. An estimate, because the standard does not fix the
// layout.
constexpr std::size_t index_node_bytes =
    heap_block_bytes(sizeof(detail::Index::value_type) + sizeof(void*) + sizeof(std::size_t)) +
    sizeof(void*);

// The maximum a name's heap block takes beyond the name: header, rounding and
// terminator.
constexpr std::size_t name_block_slack = 8 + 15 + 1;

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
    heap_block_bytes(sizeof(detail::MemoryEntry)) + table_slot_bytes + sketch_bytes;

const std::size_t MemoryStore::index_overhead =
    sizeof(detail::IndexLink) + index_node_bytes + name_block_slack;

std::size_t MemoryStore::charge(std::string_view key, const Page& page,
                               const PutOptions& options) const {
  const TagViews tags = distinct_tags(options.tags);
  std::size_t bytes = key.size() + key_slack(key) + page.byte_size() + page_heap_slack(page) +
                      entry_overhead + shards_.front()->policy_bytes_per_entry() +
                      heap_slack(tags.size() * sizeof(detail::IndexLink), 0);
  if (!options.family.empty()) {
    bytes += index_overhead + options.family.size();
  }
  for (const std::string_view tag : tags) {
    bytes += index_overhead + tag.size();
  }
  return bytes;
}

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
  if (front_->enabled()) {
    detail::HitBatch full;
    if (Hit hit = front_->get(hashed, now, full)) {
      if (full.size != 0) {
        replay(full);
      }
      return hit;
    }
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

  const TagViews tags = distinct_tags(options.tags);
  const std::size_t weight = charge(key, *page, options);

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
  stats.front_hits = front_->hits();
  stats.hits += stats.front_hits;
  return stats;
}

// XXH3 with the store's seed: seed-dependent, so keys that collide in one
// store do not collide in another, and about five times faster than Boost's
// seeded hash_range on an 83-byte key (bench/contenders, perf).
std::uint64_t MemoryStore::hash(std::string_view key) const noexcept {
  return XXH3_64bits_withSeed(key.data(), key.size(), options_.hash_seed);
}

// The shard comes from the high bits of the hash. Each shard's table places
// keys by a rotated hash (MemoryShard::EntryHash), so the two choices stay
// independent.
std::size_t MemoryStore::shard_index(std::uint64_t hash) const noexcept {
  return shard_bits_ == 0 ? 0 : static_cast<std::size_t>(hash >> (64 - shard_bits_));
}

detail::MemoryShard& MemoryStore::shard_for(std::uint64_t hash) const noexcept {
  return *shards_[shard_index(hash)];
}

}  // namespace viewcache
