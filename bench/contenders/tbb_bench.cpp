// tbb::concurrent_hash_map (oneTBB 2021.8, Debian libtbb-dev) as a page store:
// keys to shared immutable bodies, looked up with a const_accessor, which
// holds a read lock on the element while the shared_ptr is copied out.
// Built only when CMake finds TBB.

#include <benchmark/benchmark.h>

#include <oneapi/tbb/concurrent_hash_map.h>

#include <memory>
#include <string>

#include "contenders/latency_sampler.hpp"
#include "contenders/workload.hpp"

namespace viewcache::bench {
namespace {

using TbbMap = tbb::concurrent_hash_map<std::string, std::shared_ptr<const std::string>>;

void BM_Hit_TbbConcurrentHashMap(benchmark::State& state) {
  static TbbMap map;
  static const bool filled = [] {
    for (std::size_t i = 0; i < key_count; ++i) {
      map.insert({keys()[i], bodies()[i]});
    }
    return true;
  }();
  benchmark::DoNotOptimize(filled);

  const std::vector<std::string>& all_keys = keys();
  std::size_t index = first_key_for(state.thread_index());
  std::size_t misses = 0;

  LatencySampler sampler(LatencySampler::in_process_batch);
  for (auto _ : state) {
    std::shared_ptr<const std::string> body;
    {
      TbbMap::const_accessor accessor;
      if (map.find(accessor, all_keys[index])) {
        body = accessor->second;
      }
    }
    benchmark::DoNotOptimize(body.get());
    misses += body != nullptr ? 0U : 1U;
    index = (index + 1) & key_mask;
    sampler.tick();
  }

  if (misses != 0) {
    state.SkipWithError("tbb::concurrent_hash_map::find missed a stored key");
    return;
  }
  sampler.report(state);
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("tbb::concurrent_hash_map");
}
BENCHMARK(BM_Hit_TbbConcurrentHashMap)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace viewcache::bench
