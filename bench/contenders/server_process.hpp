#pragma once

// Helpers for the contenders that are separate servers (redis-server,
// memcached): the benchmark finds the binary, starts it on a free loopback
// port with its files in a temporary directory, and stops it when done.
// Linux only, like the servers' Debian packages.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace viewcache::bench {

// Returns the path of the executable called name in a directory of $PATH, or
// std::nullopt when there is none.
[[nodiscard]] std::optional<std::filesystem::path> find_program(std::string_view name);

// Returns a TCP port on 127.0.0.1 that was free a moment ago. Another process
// may take it before the server binds it, so callers retry a failed start
// with a new port. Throws std::system_error when no socket can be bound.
[[nodiscard]] std::uint16_t free_loopback_port();

// Returns true when a TCP connection to 127.0.0.1:port succeeds.
[[nodiscard]] bool accepts_connections(std::uint16_t port);

// A directory made with mkdtemp under $TMPDIR (or /tmp), removed with
// everything in it on destruction.
class TempDir {
 public:
  // Throws std::system_error when the directory cannot be made.
  explicit TempDir(std::string_view prefix);
  ~TempDir();

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

// A child process that runs a server until destruction, which sends SIGTERM,
// waits up to 5 s and then sends SIGKILL.
//
// When it is started from the process's main thread, the child also gets
// SIGTERM if the benchmark dies, through PR_SET_PDEATHSIG. Linux ties that
// signal to the thread that forked, so it is not set from other threads,
// whose exit would stop the server early.
class ServerProcess {
 public:
  // Starts program with arguments, with its stdout and stderr appended to
  // log_path, and polls ready() every 10 ms until it returns true. Throws
  // std::runtime_error that quotes the end of the log when the child exits
  // or is not ready within timeout, and std::system_error when fork fails.
  ServerProcess(const std::filesystem::path& program, const std::vector<std::string>& arguments,
                const std::filesystem::path& log_path, const std::function<bool()>& ready,
                std::chrono::milliseconds timeout);
  ~ServerProcess();

  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }

 private:
  void stop() noexcept;

  pid_t pid_ = -1;
};

// Returns the last max_bytes of the file at path, or an empty string when it
// cannot be read.
[[nodiscard]] std::string read_tail(const std::filesystem::path& path, std::size_t max_bytes);

}  // namespace viewcache::bench
