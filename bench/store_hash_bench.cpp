// Store lookups under crafted keys and as the store fills.
//
// BM_StoreLookup_Crafted: 4,096 keys chosen so that, under hash seed 1, they
// all start their probe in the same place of a shard's table. A store that
// used that seed, as an unseeded hash would, serves them from one long probe
// chain. A store with its own random seed must serve them about as fast as
// ordinary keys. Compare /seed_known:0 with BM_StoreLookup_Ordinary in the
// same run.
//
// BM_StoreLookup_Fill: lookups in a store of 1 or 16 shards holding 4,000 to
// 400,000 entries. Both grow with the fill as the entries outgrow the CPU
// caches; if the 16 shards grow much faster than the one, the shards' tables
// place keys badly.
//
// Both turn the front tables off, so every lookup probes a shard's table.

#include <benchmark/benchmark.h>

#include <bit>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "viewcache/memory_store.hpp"

namespace {

using namespace viewcache;

constexpr std::size_t crafted_count = 4096;
constexpr std::uint64_t known_seed = 1;

std::shared_ptr<const Page> small_page() {
  static const auto page = std::make_shared<const Page>(Page{.body = std::string(256, 'x')});
  return page;
}

MemoryStore::Options lookup_options(std::uint64_t seed, std::size_t shards) {
  return {.max_bytes = std::size_t{1} << 30, .shards = shards, .hash_seed = seed,
          .front_slots = 0};
}

// Keys whose hash under known_seed agrees in the 12 bits a one-shard table
// places them by (the top bits of the hash rotated by 32, see EntryHash in
// src/memory_shard.hpp).
const std::vector<std::string>& crafted_keys() {
  static const std::vector<std::string> keys = [] {
    const MemoryStore probe(lookup_options(known_seed, 1));
    std::vector<std::string> found;
    for (std::uint64_t i = 0; found.size() < crafted_count; ++i) {
      std::string key = "view//search/anon?q=" + std::to_string(i);
      if ((std::rotl(probe.hash(key), 32) >> 52) == 0) {
        found.push_back(std::move(key));
      }
    }
    return found;
  }();
  return keys;
}

const std::vector<std::string>& ordinary_keys(std::size_t count) {
  static std::vector<std::string> keys;
  for (std::size_t i = keys.size(); i < count; ++i) {
    keys.push_back("view//course/" + std::to_string(i) + "/lesson/intro/anon");
  }
  return keys;
}

void look_up_all(benchmark::State& state, MemoryStore& store, const std::vector<std::string>& keys,
                 std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    store.put(keys[i], small_page(), std::chrono::hours{1});
  }
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(store.get(keys[i]));
    i = i + 1 == count ? 0 : i + 1;
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_StoreLookup_Crafted(benchmark::State& state) {
  const bool seed_known = state.range(0) != 0;
  MemoryStore store(lookup_options(seed_known ? known_seed : 0, 1));
  look_up_all(state, store, crafted_keys(), crafted_count);
}
BENCHMARK(BM_StoreLookup_Crafted)->ArgName("seed_known")->Arg(1)->Arg(0);

void BM_StoreLookup_Ordinary(benchmark::State& state) {
  MemoryStore store(lookup_options(0, 1));
  look_up_all(state, store, ordinary_keys(crafted_count), crafted_count);
}
BENCHMARK(BM_StoreLookup_Ordinary);

void BM_StoreLookup_Fill(benchmark::State& state) {
  const auto entries = static_cast<std::size_t>(state.range(0));
  MemoryStore store(lookup_options(0, static_cast<std::size_t>(state.range(1))));
  look_up_all(state, store, ordinary_keys(entries), entries);
}
BENCHMARK(BM_StoreLookup_Fill)
    ->ArgNames({"entries", "shards"})
    ->ArgsProduct({{4'000, 40'000, 400'000}, {1, 16}});

}  // namespace
