// viewcache's hit path: PageCache::cached() from a request, key building
// included, and MemoryStore::get() by a prebuilt key, the floor under it.

#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>

#include "contenders/latency_sampler.hpp"
#include "contenders/workload.hpp"

namespace viewcache::bench {
namespace {

const std::shared_ptr<MemoryStore>& filled_store() {
  static const std::shared_ptr<MemoryStore> store = [] {
    auto created =
        std::make_shared<MemoryStore>(MemoryStore::Options{.max_bytes = std::size_t{256} << 20});
    for (std::size_t i = 0; i < key_count; ++i) {
      created->put(keys()[i], pages()[i], std::chrono::hours{1});
    }
    return created;
  }();
  return store;
}

// A request as middleware builds it: a 55-byte path, an unsorted two-field
// query and a signed-in viewer, keyed by the default AuthAwareKeyPolicy.
void BM_Hit_Ours_PageCacheCached(benchmark::State& state) {
  static PageCache cache{filled_store()};
  const CacheOptions options{.ttl = std::chrono::hours{1}};
  std::size_t index = first_key_for(state.thread_index());
  std::size_t misses = 0;

  LatencySampler sampler(LatencySampler::in_process_batch);
  for (auto _ : state) {
    CacheResult result = cache.cached(make_request(index), options, make_page);
    benchmark::DoNotOptimize(result.page.get());
    misses += result.hit() ? 0U : 1U;
    index = (index + 1) & key_mask;
    sampler.tick();
  }

  if (misses != 0) {
    state.SkipWithError("PageCache::cached missed; the store evicted benchmark pages");
    return;
  }
  sampler.report(state);
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("viewcache PageCache::cached");
}
BENCHMARK(BM_Hit_Ours_PageCacheCached)->Threads(1)->Threads(2)->UseRealTime();

void BM_Hit_Ours_MemoryStoreGet(benchmark::State& state) {
  MemoryStore& store = *filled_store();
  const std::vector<std::string>& all_keys = keys();
  std::size_t index = first_key_for(state.thread_index());
  std::size_t misses = 0;

  LatencySampler sampler(LatencySampler::in_process_batch);
  for (auto _ : state) {
    Store::Hit hit = store.get(all_keys[index]);
    benchmark::DoNotOptimize(hit.page.get());
    misses += hit ? 0U : 1U;
    index = (index + 1) & key_mask;
    sampler.tick();
  }

  if (misses != 0) {
    state.SkipWithError("MemoryStore::get missed; the store evicted benchmark pages");
    return;
  }
  sampler.report(state);
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("viewcache MemoryStore::get");
}
BENCHMARK(BM_Hit_Ours_MemoryStoreGet)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace viewcache::bench
