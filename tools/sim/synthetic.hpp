#pragma once

// The synthetic workload of --format zipf.

#include <string>

#include "trace.hpp"

namespace viewcache::sim {

// Parameters of the zipf workload, written on the command line as
// "alpha=0.99,keys=100000,requests=2000000,flood=0.3,seed=1".
struct ZipfParameters {
  double alpha = 0.99;           // skew: key of rank r is drawn with weight 1 / r^alpha
  std::uint64_t keys = 100'000;  // distinct keys the Zipf part draws from
  std::uint64_t requests = 2'000'000;
  double flood = 0.0;  // share of requests for a new key that never repeats
  std::uint64_t seed = 1;
};

// Parses "name=value" pairs separated by commas; omitted names keep their
// defaults. Throws InputError for an unknown name or an invalid value.
[[nodiscard]] ZipfParameters parse_zipf_parameters(const std::string& spec);

// Generates the workload: each request is, with probability flood, a key
// never requested before or after (like a flood of random query strings),
// and otherwise a key drawn from a Zipf distribution over keys keys. The
// same parameters always give the same trace, on every platform, because
// the generator is a fixed splitmix64 sequence, not a std:: distribution.
[[nodiscard]] Trace generate_zipf(const std::string& spec, const LoadProgress& progress);

}  // namespace viewcache::sim
