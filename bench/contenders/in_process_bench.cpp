// In-process contenders that need only the packages viewcache itself builds
// with: the hand-written LRU that copies pages out, and a sharded
// boost::unordered_flat_map that hands out shared bodies.

#include <benchmark/benchmark.h>

#include <boost/unordered/unordered_flat_map.hpp>

#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "contenders/hand_written_lru.hpp"
#include "contenders/latency_sampler.hpp"
#include "contenders/workload.hpp"

namespace viewcache::bench {
namespace {

// A hand-written cache that copies nothing: a fixed number of
// boost::unordered_flat_map shards, each behind its own mutex, mapping keys
// to shared immutable bodies. It has no TTL and no eviction.
class ShardedFlatMap {
 public:
  void put(const std::string& key, std::shared_ptr<const std::string> body) {
    Shard& shard = shard_for(key);
    std::lock_guard lock(shard.mutex);
    shard.map.insert_or_assign(key, std::move(body));
  }

  // Returns the body under key, or nullptr.
  std::shared_ptr<const std::string> get(const std::string& key) {
    Shard& shard = shard_for(key);
    std::lock_guard lock(shard.mutex);
    const auto position = shard.map.find(key);
    return position == shard.map.end() ? nullptr : position->second;
  }

 private:
  // As many shards as MemoryStore's default.
  static constexpr std::size_t shard_count = 16;

  struct Shard {
    std::mutex mutex;
    boost::unordered_flat_map<std::string, std::shared_ptr<const std::string>> map;
  };

  // std::hash picks the shard, and the map hashes the key again with its own
  // boost::hash, as code that shards a map by hand usually does.
  Shard& shard_for(const std::string& key) {
    return shards_[std::hash<std::string>{}(key) % shard_count];
  }

  std::array<Shard, shard_count> shards_;
};

void BM_Hit_HandWrittenLru_Copy(benchmark::State& state) {
  static HandWrittenLru cache;
  static const bool filled = [] {
    for (std::size_t i = 0; i < key_count; ++i) {
      cache.put(keys()[i], *pages()[i]);
    }
    return true;
  }();
  benchmark::DoNotOptimize(filled);

  const std::vector<std::string>& all_keys = keys();
  std::size_t index = first_key_for(state.thread_index());
  std::size_t misses = 0;

  LatencySampler sampler(LatencySampler::in_process_batch);
  for (auto _ : state) {
    // A fresh Page per hit, as a get() that returns the page by value
    // allocates one: the 16 KiB body is allocated and copied every time.
    Page page;
    misses += cache.get(all_keys[index], page) ? 0U : 1U;
    benchmark::DoNotOptimize(page.body.data());
    index = (index + 1) & key_mask;
    sampler.tick();
  }

  if (misses != 0) {
    state.SkipWithError("HandWrittenLru::get missed a stored key");
    return;
  }
  sampler.report(state);
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("unordered_map + list LRU, 1 mutex, copy");
}
BENCHMARK(BM_Hit_HandWrittenLru_Copy)->Threads(1)->Threads(2)->UseRealTime();

void BM_Hit_BoostShardedFlatMap(benchmark::State& state) {
  static ShardedFlatMap cache;
  static const bool filled = [] {
    for (std::size_t i = 0; i < key_count; ++i) {
      cache.put(keys()[i], bodies()[i]);
    }
    return true;
  }();
  benchmark::DoNotOptimize(filled);

  const std::vector<std::string>& all_keys = keys();
  std::size_t index = first_key_for(state.thread_index());
  std::size_t misses = 0;

  LatencySampler sampler(LatencySampler::in_process_batch);
  for (auto _ : state) {
    std::shared_ptr<const std::string> body = cache.get(all_keys[index]);
    benchmark::DoNotOptimize(body.get());
    misses += body != nullptr ? 0U : 1U;
    index = (index + 1) & key_mask;
    sampler.tick();
  }

  if (misses != 0) {
    state.SkipWithError("ShardedFlatMap::get missed a stored key");
    return;
  }
  sampler.report(state);
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("16 x boost::unordered_flat_map + mutex");
}
BENCHMARK(BM_Hit_BoostShardedFlatMap)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace viewcache::bench
