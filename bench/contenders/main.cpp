// viewcache_latency_bench: the cost of a cache hit in viewcache beside the
// stores an application would otherwise use, all in one run.
//
//   scripts/bench-latency.sh     installs the contenders, builds, runs this,
//                                writes build/release/latency.json and
//                                prints the ratios against the targets
//
// Every hit benchmark (BM_Hit_*) serves the same 16 KiB page under the same
// 1,024 keys (workload.hpp), runs with 1 and 2 threads on real time, reports
// items_per_second, and on one thread the counters p50_ns and p99_ns
// (latency_sampler.hpp). The memory benchmarks (BM_Memory_*) report bytes
// per entry beyond key and body (memory_bench.cpp).
//
// Contenders whose packages CMake did not find are not built. Redis and
// memcached run as servers the benchmark starts itself. When their binaries
// are missing, those benchmarks report an error and the others run.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>

#ifndef VIEWCACHE_BENCH_NOT_BUILT
#define VIEWCACHE_BENCH_NOT_BUILT ""
#endif

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    return 1;
  }

  const std::string not_built = VIEWCACHE_BENCH_NOT_BUILT;
  if (!not_built.empty()) {
    std::fprintf(stderr,
                 "latency bench: contenders not built, because CMake did not find their "
                 "packages: %s\n",
                 not_built.c_str());
  }
  benchmark::AddCustomContext("contenders_not_built", not_built);

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
