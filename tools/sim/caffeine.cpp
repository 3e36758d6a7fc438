#include "caffeine.hpp"

#include <fmt/format.h>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>

#include "errors.hpp"

extern char** environ;

namespace viewcache::sim {
namespace {

// Set by tools/sim/CMakeLists.txt from what configuring found.
constexpr std::string_view java_path = VIEWCACHE_SIM_JAVA;
constexpr std::string_view harness_classpath = VIEWCACHE_SIM_CAFFEINE_CLASSPATH;
constexpr std::string_view harness_missing = VIEWCACHE_SIM_CAFFEINE_MISSING;

// A file in the temporary directory, removed when this goes out of scope.
class TemporaryFile {
 public:
  explicit TemporaryFile(std::string_view purpose) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / fmt::format("viewcache-sim-{}-XXXXXX", purpose))
            .string();
    const int descriptor = ::mkstemp(pattern.data());
    if (descriptor < 0) {
      const int error = errno;
      throw std::runtime_error(fmt::format("cannot create a temporary file {}: {}; set TMPDIR to "
                                           "a writable directory",
                                           pattern, std::strerror(error)));
    }
    ::close(descriptor);
    path_ = pattern;
  }

  ~TemporaryFile() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }

  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;

  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

void put_big_endian(std::string& out, std::uint64_t value, int bytes) {
  for (int shift = (bytes - 1) * 8; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((value >> static_cast<unsigned>(shift)) & 0xFFU));
  }
}

// The harness's input: the request count (int64) and a flag word (int32, bit
// 0: sizes follow), then per request its key (int64) and, with the flag, its
// size (int32), all big-endian as Java's DataInputStream reads them.
void write_requests(const Trace& trace, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  std::string block;
  put_big_endian(block, trace.size(), 8);
  put_big_endian(block, trace.has_sizes() ? 1 : 0, 4);
  for (std::size_t i = 0; i < trace.size(); ++i) {
    put_big_endian(block, trace.keys[i], 8);
    if (trace.has_sizes()) {
      const std::uint64_t size = trace.sizes[i];
      if (size > static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max())) {
        throw InputError(fmt::format(
            "request {} of trace '{}' has size {} bytes, more than Caffeine's int weights hold; "
            "leave out the caffeine policy for this trace",
            i + 1, trace.name, size));
      }
      put_big_endian(block, size, 4);
    }
    if (block.size() >= (1U << 20U)) {
      out.write(block.data(), static_cast<std::streamsize>(block.size()));
      block.clear();
    }
  }
  out.write(block.data(), static_cast<std::streamsize>(block.size()));
  out.close();
  if (!out) {
    throw std::runtime_error(fmt::format("cannot write the Caffeine harness input {}; check the "
                                         "free space in the temporary directory",
                                         path));
  }
}

// Runs the harness without a shell and waits for it.
void run_harness(const std::vector<std::string>& arguments) {
  std::vector<char*> argv;
  argv.reserve(arguments.size() + 1);
  for (const std::string& argument : arguments) {
    argv.push_back(const_cast<char*>(argument.c_str()));
  }
  argv.push_back(nullptr);

  pid_t child = 0;
  const int spawned = ::posix_spawn(&child, argv[0], nullptr, nullptr, argv.data(), environ);
  if (spawned != 0) {
    throw std::runtime_error(
        fmt::format("cannot start {}: {}", arguments.front(), std::strerror(spawned)));
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) {
      throw std::runtime_error(fmt::format("waiting for the Caffeine harness failed: {}",
                                           std::strerror(errno)));
    }
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error(fmt::format(
        "the Caffeine harness failed ({} {}); its messages are above",
        WIFEXITED(status) ? "exit status" : "signal",
        WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status)));
  }
}

}  // namespace

std::vector<CaffeineCounts> replay_caffeine(const Trace& trace,
                                            std::span<const Capacity> capacities) {
  if (!harness_missing.empty()) {
    throw InputError(fmt::format("the caffeine policy is not available: {}; then configure and "
                                 "build again, or leave out --policy caffeine",
                                 harness_missing));
  }

  TemporaryFile requests("requests");
  TemporaryFile results("results");
  write_requests(trace, requests.path());

  std::vector<std::string> arguments{std::string(java_path), "-cp", std::string(harness_classpath),
                                     "CaffeineReplay", requests.path(), results.path()};
  for (const Capacity& capacity : capacities) {
    arguments.push_back(fmt::format("{}:{}", capacity.in_bytes ? "bytes" : "entries",
                                    capacity.value));
  }
  run_harness(arguments);

  // One line per capacity, in order: "hits hit_bytes".
  std::ifstream in(results.path());
  std::vector<CaffeineCounts> counts;
  CaffeineCounts line;
  while (in >> line.hits >> line.hit_bytes) {
    counts.push_back(line);
  }
  if (counts.size() != capacities.size()) {
    throw std::runtime_error(fmt::format(
        "the Caffeine harness wrote {} results for {} capacities to {}", counts.size(),
        capacities.size(), results.path()));
  }
  return counts;
}

}  // namespace viewcache::sim
