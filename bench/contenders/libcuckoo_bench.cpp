// libcuckoo's cuckoohash_map (0.3.1, Debian libcuckoo-dev) as a page store:
// keys to shared immutable bodies. find() locks the key's two buckets and
// copies the shared_ptr out. Built only when CMake finds libcuckoo.

#include <benchmark/benchmark.h>

#include <libcuckoo/cuckoohash_map.hh>

#include <memory>
#include <string>

#include "contenders/latency_sampler.hpp"
#include "contenders/workload.hpp"

namespace viewcache::bench {
namespace {

using CuckooMap = libcuckoo::cuckoohash_map<std::string, std::shared_ptr<const std::string>>;

void BM_Hit_Libcuckoo(benchmark::State& state) {
  static CuckooMap map;
  static const bool filled = [] {
    for (std::size_t i = 0; i < key_count; ++i) {
      map.insert(keys()[i], bodies()[i]);
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
    misses += map.find(all_keys[index], body) ? 0U : 1U;
    benchmark::DoNotOptimize(body.get());
    index = (index + 1) & key_mask;
    sampler.tick();
  }

  if (misses != 0) {
    state.SkipWithError("cuckoohash_map::find missed a stored key");
    return;
  }
  sampler.report(state);
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("libcuckoo cuckoohash_map");
}
BENCHMARK(BM_Hit_Libcuckoo)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace viewcache::bench
