#include "viewcache/memory_store.hpp"

#include <fmt/format.h>

#include <bit>
#include <stdexcept>

#include "memory_shard.hpp"

namespace viewcache {
namespace {

constexpr std::size_t max_shards = 4096;

// The control block that std::make_shared puts in front of a Page: two
// reference counts and a vtable pointer on the common ABIs. An estimate,
// because the standard does not fix its layout.
constexpr std::size_t shared_control_block_bytes = 16;

// The hash map slot plus its one metadata byte.
constexpr std::size_t map_slot_bytes =
    sizeof(std::string_view) + sizeof(std::unique_ptr<detail::MemoryEntry>) + 1;

void validate(const MemoryStore::Options& options) {
  if (options.shards == 0 || options.shards > max_shards || !std::has_single_bit(options.shards)) {
    throw std::invalid_argument(fmt::format(
        "MemoryStore::Options::shards is {}; use a power of two from 1 to {}, such as 16",
        options.shards, max_shards));
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
    sizeof(detail::MemoryEntry) + map_slot_bytes + shared_control_block_bytes;

MemoryStore::MemoryStore() : MemoryStore(Options{}) {}

MemoryStore::MemoryStore(Options options) : options_(std::move(options)) {
  validate(options_);
  if (options_.clock == nullptr) {
    options_.clock = steady_clock();
  }

  const std::size_t shard_bytes = options_.max_bytes / options_.shards;
  shards_.reserve(options_.shards);
  for (std::size_t i = 0; i < options_.shards; ++i) {
    shards_.push_back(std::make_unique<detail::MemoryShard>(shard_bytes, *options_.clock));
  }
}

MemoryStore::~MemoryStore() = default;

Store::Hit MemoryStore::get(std::string_view key) { return shard_for(key).get(key); }

bool MemoryStore::put(std::string_view key, std::shared_ptr<const Page> page,
                      std::chrono::milliseconds ttl) {
  return shard_for(key).put(key, std::move(page), ttl);
}

bool MemoryStore::erase(std::string_view key) { return shard_for(key).erase(key); }

void MemoryStore::clear() {
  for (const auto& shard : shards_) {
    shard->clear();
  }
}

MemoryStore::Stats MemoryStore::stats() const {
  Stats stats;
  for (const auto& shard : shards_) {
    shard->add_to(stats);
  }
  return stats;
}

// The shard comes from the high bits of a multiplied hash, so it stays
// independent of the low bits the shard's own hash map uses for its groups.
detail::MemoryShard& MemoryStore::shard_for(std::string_view key) const {
  const std::uint64_t hash = boost::hash<std::string_view>{}(key);
  const std::uint64_t mixed = hash * 0x9E3779B97F4A7C15ULL;
  const int shard_bits = std::countr_zero(shards_.size());
  const std::size_t index = shard_bits == 0 ? 0 : static_cast<std::size_t>(mixed >> (64 - shard_bits));
  return *shards_[index];
}

}  // namespace viewcache
