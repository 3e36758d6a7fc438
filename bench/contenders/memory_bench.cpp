// Memory per entry: fill a store with 200,000 small pages and count the
// bytes it grew by, beyond the bytes of the keys and bodies themselves.
//
// Two figures per store, both averaged over the entries:
//   rss_overhead_per_entry   growth of the resident set (/proc/self/statm),
//                            after malloc_trim(0) has returned free heap
//                            memory to the kernel, so reused free memory does
//                            not hide growth;
//   heap_overhead_per_entry  growth of the bytes glibc malloc has handed out
//                            (mallinfo2: uordblks + hblkhd), which includes
//                            malloc's chunk headers and rounding but no
//                            untouched pages.
// Both include every structure the store keeps per entry: the entry or node,
// its share of the hash table, the Page object and its shared_ptr control
// block, and the heap blocks of the key and body strings beyond their bytes.
// For MemoryStore they also include the frequency sketch of its eviction policy.

#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "contenders/hand_written_lru.hpp"
#include "contenders/workload.hpp"

namespace viewcache::bench {
namespace {

constexpr std::size_t memory_entries = 200'000;
constexpr std::size_t small_body_bytes = 256;

struct MemoryUse {
  double resident_bytes = 0;
  double heap_bytes = 0;
};

MemoryUse current_memory_use() {
  MemoryUse use;
  unsigned long total_pages = 0;
  unsigned long resident_pages = 0;
  if (std::FILE* statm = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(statm, "%lu %lu", &total_pages, &resident_pages) != 2) {
      resident_pages = 0;
    }
    std::fclose(statm);
  }
  use.resident_bytes =
      static_cast<double>(resident_pages) * static_cast<double>(::sysconf(_SC_PAGESIZE));
  const struct mallinfo2 heap = ::mallinfo2();
  use.heap_bytes = static_cast<double>(heap.uordblks + heap.hblkhd);
  return use;
}

// Keys in the workload's format, one per entry, built before any measurement.
const std::vector<std::string>& memory_keys() {
  static const std::vector<std::string> all = [] {
    const AuthAwareKeyPolicy policy;
    std::vector<std::string> built;
    built.reserve(memory_entries);
    for (std::size_t i = 0; i < memory_entries; ++i) {
      const std::string path = "/course/explore/intermediate/cpp20-features/lesson-" +
                               std::to_string(1'000'000 + i);
      built.push_back(policy.key({.path = path,
                                  .query = request_query,
                                  .viewer = Viewer::signed_in(request_user)})
                          .value());
    }
    return built;
  }();
  return all;
}

double mean_key_bytes() {
  std::size_t total = 0;
  for (const std::string& key : memory_keys()) {
    total += key.size();
  }
  return static_cast<double>(total) / static_cast<double>(memory_entries);
}

Page make_small_page() { return Page{.body = std::string(small_body_bytes, 'x')}; }

// Sets the counters for the growth from before to after over memory_entries.
void report_growth(benchmark::State& state, const MemoryUse& before, const MemoryUse& after) {
  const double payload = mean_key_bytes() + static_cast<double>(small_body_bytes);
  const double entries = static_cast<double>(memory_entries);
  state.counters["entries"] = entries;
  state.counters["key_bytes_per_entry"] = mean_key_bytes();
  state.counters["body_bytes_per_entry"] = static_cast<double>(small_body_bytes);
  state.counters["rss_overhead_per_entry"] =
      (after.resident_bytes - before.resident_bytes) / entries - payload;
  state.counters["heap_overhead_per_entry"] = (after.heap_bytes - before.heap_bytes) / entries -
                                              payload;
}

void BM_Memory_Ours_MemoryStore(benchmark::State& state) {
  state.SetLabel("viewcache MemoryStore");
  const double key_bytes = mean_key_bytes();
  const double entries = static_cast<double>(memory_entries);

  // Room for every entry with a quarter to spare, so no shard evicts, and the
  // frequency sketch sized for pages of this size, as a user would set it.
  const std::size_t charged_per_entry =
      MemoryStore({.expected_page_bytes = 1024}).charge(memory_keys()[0], make_small_page());
  const MemoryStore::Options options{
      .max_bytes = memory_entries * charged_per_entry / 4 * 5,
      .expected_page_bytes = charged_per_entry};

  for (auto _ : state) {
    // Sized up front, and so touched, before the baseline: its 16 bytes per
    // entry belong to the benchmark, not to the pages or the store.
    std::vector<std::shared_ptr<const Page>> pages(memory_entries);
    ::malloc_trim(0);

    // The pages first, as the render callbacks create them, then the store,
    // so the growth splits into what the pages take and what storing them adds.
    const MemoryUse before = current_memory_use();
    for (std::size_t i = 0; i < memory_entries; ++i) {
      pages[i] = std::make_shared<const Page>(make_small_page());
    }
    const MemoryUse rendered = current_memory_use();
    auto store = std::make_unique<MemoryStore>(options);
    for (std::size_t i = 0; i < memory_entries; ++i) {
      store->put(memory_keys()[i], pages[i], std::chrono::hours{1});
    }
    const MemoryUse after = current_memory_use();

    if (store->stats().entries != memory_entries) {
      state.SkipWithError("MemoryStore evicted entries; its budget is too small for the test");
      break;
    }
    report_growth(state, before, after);
    // What the store's byte budget charges per entry beyond key and body
    // bytes. At least the heap overheads above, or the budget is exceeded.
    state.counters["charged_overhead_per_entry"] =
        static_cast<double>(store->stats().bytes) / entries - key_bytes -
        static_cast<double>(small_body_bytes);
    // The Page object, its shared_ptr control block and the body's heap block
    // beyond the body bytes.
    state.counters["page_heap_overhead_per_entry"] =
        (rendered.heap_bytes - before.heap_bytes) / entries - static_cast<double>(small_body_bytes);
    // The entry, the key's heap block beyond the key bytes, the table slot
    // and the frequency sketch.
    state.counters["store_heap_overhead_per_entry"] =
        (after.heap_bytes - rendered.heap_bytes) / entries - key_bytes;
  }
}
BENCHMARK(BM_Memory_Ours_MemoryStore)->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_Memory_HandWrittenLru(benchmark::State& state) {
  state.SetLabel("unordered_map + list LRU");
  for (auto _ : state) {
    ::malloc_trim(0);
    const MemoryUse before = current_memory_use();
    auto cache = std::make_unique<HandWrittenLru>();
    for (const std::string& key : memory_keys()) {
      cache->put(key, make_small_page());
    }
    const MemoryUse after = current_memory_use();
    report_growth(state, before, after);
  }
}
BENCHMARK(BM_Memory_HandWrittenLru)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace viewcache::bench
