#pragma once

// LmsProcess: a viewcache-lms child process for end-to-end tests, started with
// posix_spawn and stopped (SIGTERM, then SIGKILL) and reaped by its
// destructor, so a failed assertion leaves no process behind.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace lms_e2e {

class LmsProcess {
 public:
  struct Options {
    std::vector<std::string> flags;

    // The file that receives the child's stderr, truncated first. Empty
    // selects a pipe that read_stderr() drains.
    std::string stderr_path;
  };

  // Starts program with options.flags. The child's stdout is a pipe. Throws
  // std::system_error when the pipe or the spawn fails.
  LmsProcess(const std::string& program, const Options& options);
  ~LmsProcess();

  LmsProcess(const LmsProcess&) = delete;
  LmsProcess& operator=(const LmsProcess&) = delete;

  // Reads the first line of stdout, without its newline. Returns
  // std::nullopt when the child closes stdout or timeout passes first.
  [[nodiscard]] std::optional<std::string> read_first_line(std::chrono::milliseconds timeout);

  // Reads the piped stderr up to end of file, or up to timeout.
  [[nodiscard]] std::string read_stderr(std::chrono::milliseconds timeout);

  // Waits up to timeout for the child to exit and returns its waitpid status,
  // or std::nullopt when it is still running. Throws std::system_error when
  // waitpid fails.
  [[nodiscard]] std::optional<int> wait_for_exit(std::chrono::milliseconds timeout);

  // Sends signal_number to the child, unless it has been reaped.
  void send_signal(int signal_number);

  // Sends SIGTERM and waits up to timeout for the exit. A child that is still
  // running then gets SIGKILL. Returns the waitpid status. Throws
  // std::system_error when waitpid fails.
  int stop(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
};

}  // namespace lms_e2e
