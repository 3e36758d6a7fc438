#pragma once

// A trace decoded into memory: one dense key id per request, plus the
// request's size in bytes for formats that record it. Keys are renumbered
// 0, 1, 2, ... in order of first appearance, so policies can keep per-key
// state in arrays and the Caffeine harness receives plain int64 keys. The
// renumbering is exact (no hashing), so it changes no hit count.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace viewcache::sim {

enum class Format { arc, lirs, cache2k, int64, adaptsize, keys, access_log, zipf };

// The names --format accepts, in the order --help lists them.
inline constexpr std::string_view format_names[] = {
    "arc", "lirs", "cache2k", "int64", "adaptsize", "keys", "access-log", "zipf"};

// Returns the format called name, or nullopt.
[[nodiscard]] std::optional<Format> parse_format(std::string_view name) noexcept;
[[nodiscard]] std::string_view format_name(Format format) noexcept;
[[nodiscard]] bool format_has_sizes(Format format) noexcept;

struct Trace {
  std::string name;  // the --trace argument: a path, or the zipf parameters
  Format format = Format::keys;
  std::vector<std::uint32_t> keys;    // dense key id of each request
  std::vector<std::uint64_t> sizes;   // bytes of each request, empty when unknown
  std::uint32_t key_count = 0;        // every id is below this
  std::uint32_t distinct_keys = 0;    // ids that occur; key_count for files, fewer for zipf
  std::uint64_t skipped_lines = 0;    // access-log lines that are not cache lookups

  [[nodiscard]] bool has_sizes() const noexcept { return !sizes.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return keys.size(); }
};

// Called now and then while a trace loads, with the requests read so far.
using LoadProgress = std::function<void(std::uint64_t requests)>;

// Reads a trace file (or, for Format::zipf, generates the workload that
// source describes). Throws InputError naming the file and the line or byte
// offset for anything it cannot read.
[[nodiscard]] Trace load_trace(Format format, const std::string& source,
                               const LoadProgress& progress = {});

}  // namespace viewcache::sim
