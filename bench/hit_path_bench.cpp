// Hit-path benchmarks: what a cached page costs a request, beside the cache
// people write by hand, in one run.
//
//   scripts/bench.sh                 # builds the release preset and runs this
//
// Every contender serves the same 16 KiB page under the same 1,024 keys.

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "contenders/hand_written_lru.hpp"
#include "viewcache/viewcache.hpp"

namespace {

using namespace viewcache;
using std::chrono::seconds;

constexpr std::size_t page_bytes = 16 * 1024;
constexpr std::size_t key_count = 1024;

std::vector<std::string> make_paths() {
  std::vector<std::string> paths;
  for (std::size_t i = 0; i < key_count; ++i) {
    paths.push_back("/course/" + std::to_string(i) + "/lesson/intro");
  }
  return paths;
}

const std::vector<std::string>& paths() {
  static const std::vector<std::string> all = make_paths();
  return all;
}

Page make_page() { return Page{.headers = {{"Content-Type", "text/html"}},
                               .body = std::string(page_bytes, 'x')}; }

std::shared_ptr<MemoryStore> make_filled_store() {
  auto store = std::make_shared<MemoryStore>(MemoryStore::Options{.max_bytes = std::size_t{256} << 20});
  const auto page = std::make_shared<const Page>(make_page());
  const AuthAwareKeyPolicy policy;
  for (const std::string& path : paths()) {
    const auto key = policy.key({.path = path, .viewer = Viewer::anonymous()});
    store->put(*key, page, std::chrono::hours{1});
  }
  return store;
}

const std::shared_ptr<MemoryStore>& shared_store() {
  static const std::shared_ptr<MemoryStore> store = make_filled_store();
  return store;
}

// A store lookup by a prebuilt key: the floor under cached().
void BM_MemoryStoreGet_Hit(benchmark::State& state) {
  MemoryStore& store = *shared_store();
  std::vector<std::string> keys;
  for (const std::string& path : paths()) {
    keys.push_back("view/" + path + "/anon");
  }
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 7;
  for (auto _ : state) {
    benchmark::DoNotOptimize(store.get(keys[i++ % key_count]));
  }
}
BENCHMARK(BM_MemoryStoreGet_Hit)->Threads(1)->Threads(2)->UseRealTime();

// The whole hit path: key build, lookup, shared page handed out.
void BM_CachedHit_16KiB(benchmark::State& state) {
  static PageCache cache{shared_store()};
  const CacheOptions options{.ttl = seconds{3600}};
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 7;
  for (auto _ : state) {
    const Request request{.path = paths()[i++ % key_count]};
    CacheResult result = cache.cached(request, options, make_page);
    benchmark::DoNotOptimize(result.page.get());
  }
}
BENCHMARK(BM_CachedHit_16KiB)->Threads(1)->Threads(2)->UseRealTime();

// Hole punching: a 16 KiB page with a user-menu slot, filled per hit. Compare
// with BM_CachedHit_16KiB (no splice) and BM_CopyBody_16KiB (one plain copy
// of the body): splicing should cost about one copy.
void BM_CachedHitWithSlot_16KiB(benchmark::State& state) {
  static PageCache cache{std::make_shared<MemoryStore>()};
  const CacheOptions options{.ttl = seconds{3600}};
  const auto render = [] {
    std::string body(page_bytes / 2, 'x');
    body += "<!--viewcache:slot user-menu-->";
    body.append(page_bytes / 2, 'y');
    return Page{.body = std::move(body)};
  };
  const auto fill = [](std::string_view, std::string& out) {
    out += R"(<div class="user-menu" data-user="alice">Signed in as alice</div>)";
  };
  std::size_t i = 0;
  for (auto _ : state) {
    const Request request{.path = paths()[i++ % key_count], .viewer = Viewer::signed_in("alice")};
    CacheResult result = cache.cached(request, options, render, fill);
    benchmark::DoNotOptimize(result.body().data());
  }
}
BENCHMARK(BM_CachedHitWithSlot_16KiB);

// Baseline for the splice: copying one of 1,024 different 16 KiB bodies into
// a new string, so the source is as cold in the caches as a stored page.
void BM_CopyBody_16KiB(benchmark::State& state) {
  static const std::vector<std::string> bodies(key_count, std::string(page_bytes, 'x'));
  std::size_t i = 0;
  for (auto _ : state) {
    std::string copy = bodies[i++ % key_count];
    benchmark::DoNotOptimize(copy.data());
  }
}
BENCHMARK(BM_CopyBody_16KiB);

// Baseline: the cache people write by hand (contenders/hand_written_lru.hpp),
// copying the page out on every hit.
void BM_HandWrittenLru_Hit_16KiB(benchmark::State& state) {
  static bench::HandWrittenLru cache;
  static const bool filled = [] {
    for (const std::string& path : paths()) {
      cache.put("view/" + path + "/anon", make_page());
    }
    return true;
  }();
  benchmark::DoNotOptimize(filled);
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 7;
  Page page;
  for (auto _ : state) {
    const std::string key = "view/" + paths()[i++ % key_count] + "/anon";
    benchmark::DoNotOptimize(cache.get(key, page));
  }
}
BENCHMARK(BM_HandWrittenLru_Hit_16KiB)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
