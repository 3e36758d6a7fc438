#include "synthetic.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string_view>
#include <vector>

#include "errors.hpp"

namespace viewcache::sim {
namespace {

constexpr std::uint64_t max_keys = 100'000'000;
constexpr std::uint64_t max_requests = 1'000'000'000;
constexpr std::uint64_t progress_interval = std::uint64_t{1} << 20U;

// splitmix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number
// generators", OOPSLA 2014): small, fast, and the same on every platform.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) noexcept : state_(seed) {}

  std::uint64_t next() noexcept {
    state_ += 0x9E3779B97F4A7C15ULL;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31U);
  }

  // A uniform double in [0, 1) from the top 53 bits.
  double next_unit() noexcept { return static_cast<double>(next() >> 11U) * 0x1.0p-53; }

 private:
  std::uint64_t state_;
};

[[noreturn]] void fail(const std::string& spec, std::string_view problem) {
  throw InputError(fmt::format(
      "invalid zipf workload '{}': {}; write it as "
      "'alpha=0.99,keys=100000,requests=2000000,flood=0.3,seed=1'",
      spec, problem));
}

template <typename Number>
Number parse_number(const std::string& spec, std::string_view name, std::string_view text) {
  Number value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || text.empty()) {
    fail(spec, fmt::format("the value of {} is not a number: '{}'", name, text));
  }
  return value;
}

}  // namespace

ZipfParameters parse_zipf_parameters(const std::string& spec) {
  ZipfParameters parameters;
  std::string_view rest = spec;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (item.empty()) {
      continue;
    }

    const std::size_t equals = item.find('=');
    if (equals == std::string_view::npos) {
      fail(spec, fmt::format("'{}' has no '='", item));
    }
    const std::string_view name = item.substr(0, equals);
    const std::string_view value = item.substr(equals + 1);
    if (name == "alpha") {
      parameters.alpha = parse_number<double>(spec, name, value);
    } else if (name == "keys") {
      parameters.keys = parse_number<std::uint64_t>(spec, name, value);
    } else if (name == "requests") {
      parameters.requests = parse_number<std::uint64_t>(spec, name, value);
    } else if (name == "flood") {
      parameters.flood = parse_number<double>(spec, name, value);
    } else if (name == "seed") {
      parameters.seed = parse_number<std::uint64_t>(spec, name, value);
    } else {
      fail(spec, fmt::format("unknown parameter '{}' (valid: alpha, keys, requests, flood, seed)",
                             name));
    }
  }

  if (!(parameters.alpha >= 0.0 && parameters.alpha <= 10.0)) {
    fail(spec, "alpha must be between 0 and 10");
  }
  if (parameters.keys == 0 || parameters.keys > max_keys) {
    fail(spec, fmt::format("keys must be between 1 and {}", max_keys));
  }
  if (parameters.requests == 0 || parameters.requests > max_requests) {
    fail(spec, fmt::format("requests must be between 1 and {}", max_requests));
  }
  if (!(parameters.flood >= 0.0 && parameters.flood < 1.0)) {
    fail(spec, "flood must be at least 0 and below 1");
  }
  return parameters;
}

Trace generate_zipf(const std::string& spec, const LoadProgress& progress) {
  const ZipfParameters parameters = parse_zipf_parameters(spec);

  // cumulative[r] is the total weight of ranks 0..r, so a uniform draw over the
  // total picks a rank by binary search.
  std::vector<double> cumulative(parameters.keys);
  double total = 0.0;
  for (std::uint64_t rank = 0; rank < parameters.keys; ++rank) {
    total += 1.0 / std::pow(static_cast<double>(rank + 1), parameters.alpha);
    cumulative[rank] = total;
  }

  Trace trace;
  trace.name = spec;
  trace.format = Format::zipf;
  trace.keys.reserve(parameters.requests);
  SplitMix64 random(parameters.seed);
  std::uint64_t next_unique = parameters.keys;
  for (std::uint64_t i = 0; i < parameters.requests; ++i) {
    if (parameters.flood > 0.0 && random.next_unit() < parameters.flood) {
      trace.keys.push_back(static_cast<std::uint32_t>(next_unique));
      ++next_unique;
    } else {
      const double target = random.next_unit() * total;
      const auto position = std::upper_bound(cumulative.begin(), cumulative.end(), target);
      const auto rank = std::min<std::uint64_t>(
          static_cast<std::uint64_t>(position - cumulative.begin()), parameters.keys - 1);
      trace.keys.push_back(static_cast<std::uint32_t>(rank));
    }
    if (progress && (i + 1) % progress_interval == 0) {
      progress(i + 1);
    }
  }
  trace.key_count = static_cast<std::uint32_t>(next_unique);

  // Ranks that were never drawn leave gaps below key_count.
  std::vector<bool> seen(trace.key_count, false);
  for (const std::uint32_t key : trace.keys) {
    if (!seen[key]) {
      seen[key] = true;
      ++trace.distinct_keys;
    }
  }
  return trace;
}

}  // namespace viewcache::sim
