// Key-building benchmarks: ns per key and heap allocations per key for the
// default policy, beside a naive std::string concatenation and a hash of the
// same bytes, in one run.
//
//   scripts/bench.sh --benchmark_filter=Key_   (or run build/release/bench/viewcache_key_bench)
//
// The allocs_per_key counter comes from the replaced global operator new
// below, so it counts every allocation made through operator new in the timed
// loop, including those inside the standard library.

#include <benchmark/benchmark.h>

#include <boost/container_hash/hash.hpp>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "viewcache/auth_aware_key_policy.hpp"

namespace {
std::atomic<std::uint64_t> allocation_count{0};
}  // namespace

void* operator new(std::size_t size) {
  allocation_count.fetch_add(1, std::memory_order_relaxed);
  if (void* memory = std::malloc(size == 0 ? 1 : size)) {
    return memory;
  }
  throw std::bad_alloc{};
}

void operator delete(void* memory) noexcept { std::free(memory); }
void operator delete(void* memory, std::size_t) noexcept { std::free(memory); }

namespace {

using namespace viewcache;

// A typical request: a 52-byte path and a 45-byte query.
constexpr std::string_view typical_path = "/course/explore/intermediate/cpp20-features/lesson-12";
constexpr std::string_view typical_query = "sort=name&page=2&filter=beginner&lang=en-GB&x=1";

// Runs body once per iteration and reports allocations per iteration.
template <typename Body>
void run_counting_allocations(benchmark::State& state, Body body) {
  const std::uint64_t before = allocation_count.load(std::memory_order_relaxed);
  for (auto _ : state) {
    body();
  }
  const std::uint64_t allocations = allocation_count.load(std::memory_order_relaxed) - before;
  state.counters["allocs_per_key"] =
      benchmark::Counter(static_cast<double>(allocations), benchmark::Counter::kAvgIterations);
}

void BM_Key_AuthAware_Typical(benchmark::State& state) {
  const AuthAwareKeyPolicy policy;
  const Request request{.path = typical_path, .query = typical_query,
                        .viewer = Viewer::signed_in("alice")};
  run_counting_allocations(state, [&] {
    KeyBuffer key;
    benchmark::DoNotOptimize(policy.append_key(request, key));
    benchmark::DoNotOptimize(key.view().data());
  });
}
BENCHMARK(BM_Key_AuthAware_Typical);

void BM_Key_AuthAware_PerUser(benchmark::State& state) {
  const AuthAwareKeyPolicy policy({.vary_by = VariantScope::user,
                                   .user_secret = "benchmark-secret-0123456789"});
  const Request request{.path = typical_path, .query = typical_query,
                        .viewer = Viewer::signed_in("alice")};
  run_counting_allocations(state, [&] {
    KeyBuffer key;
    benchmark::DoNotOptimize(policy.append_key(request, key));
    benchmark::DoNotOptimize(key.view().data());
  });
}
BENCHMARK(BM_Key_AuthAware_PerUser);

// A 400-byte path: the key is shortened to 250 bytes with a SHA-256 digest.
void BM_Key_AuthAware_LongPath(benchmark::State& state) {
  const AuthAwareKeyPolicy policy;
  const std::string path = "/" + std::string(399, 'p');
  const Request request{.path = path, .query = typical_query};
  run_counting_allocations(state, [&] {
    KeyBuffer key;
    benchmark::DoNotOptimize(policy.append_key(request, key));
    benchmark::DoNotOptimize(key.view().data());
  });
}
BENCHMARK(BM_Key_AuthAware_LongPath);

// Baseline: the URL-plus-audience key a hand-written cache concatenates,
// without escaping or sorting. It is not injective.
void BM_Key_NaiveConcat(benchmark::State& state) {
  const std::string path{typical_path};
  const std::string query{typical_query};
  run_counting_allocations(state, [&] {
    std::string key = "view/" + path + "/auth?" + query;
    benchmark::DoNotOptimize(key.data());
  });
}
BENCHMARK(BM_Key_NaiveConcat);

// Baseline: hashing the request's bytes, what any cache does per lookup.
void BM_Hash_PathAndQuery(benchmark::State& state) {
  run_counting_allocations(state, [&] {
    std::size_t seed = boost::hash<std::string_view>{}(typical_path);
    boost::hash_combine(seed, boost::hash<std::string_view>{}(typical_query));
    benchmark::DoNotOptimize(seed);
  });
}
BENCHMARK(BM_Hash_PathAndQuery);

}  // namespace

BENCHMARK_MAIN();
