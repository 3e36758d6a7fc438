#pragma once

// Helpers shared by the viewcache-sim tests: a scratch directory for trace
// files and in-memory traces.

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include "trace.hpp"

namespace viewcache::sim::testing {

// A fresh directory under the system temporary directory, removed with
// everything in it when this goes out of scope.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "viewcache-sim-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("cannot create a scratch directory from " + pattern);
    }
    path_ = pattern;
  }

  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  // Writes content to the file name in this directory and returns its path.
  std::string write(std::string_view name, std::string_view content) const {
    const std::filesystem::path file = path_ / name;
    std::ofstream out(file, std::ios::binary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    return file.string();
  }

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

// A trace of the given dense key ids, with sizes if any are given.
inline Trace make_trace(std::vector<std::uint32_t> keys, std::vector<std::uint64_t> sizes = {}) {
  Trace trace;
  trace.name = "test";
  trace.keys = std::move(keys);
  trace.sizes = std::move(sizes);
  std::vector<bool> seen;
  for (const std::uint32_t key : trace.keys) {
    trace.key_count = std::max(trace.key_count, key + 1);
    seen.resize(trace.key_count, false);
    if (!seen[key]) {
      seen[key] = true;
      ++trace.distinct_keys;
    }
  }
  return trace;
}

}  // namespace viewcache::sim::testing
