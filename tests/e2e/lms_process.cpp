#include "lms_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <system_error>
#include <thread>

extern char** environ;

namespace lms_e2e {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void throw_errno(int error, const char* what) {
  throw std::system_error(error, std::generic_category(), what);
}

// Waits until fd is readable or deadline passes. Returns false on timeout.
bool wait_readable(int fd, Clock::time_point deadline) {
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      return false;
    }
    pollfd entry{.fd = fd, .events = POLLIN, .revents = 0};
    const int ready = poll(&entry, 1, static_cast<int>(left.count()));
    if (ready > 0) {
      return true;  // readable, or hung up, which read() reports as end of file
    }
    if (ready < 0 && errno != EINTR) {
      return false;
    }
  }
}

void close_fd(int& fd) {
  if (fd >= 0) {
    close(fd);
    fd = -1;
  }
}

// Closes the file actions and attributes of posix_spawn on every exit path.
struct SpawnSetup {
  posix_spawn_file_actions_t actions{};
  posix_spawnattr_t attributes{};

  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
  }
  ~SpawnSetup() {
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

}  // namespace

LmsProcess::LmsProcess(const std::string& program, const Options& options) {
  // O_CLOEXEC keeps the parent's ends out of this and any later child.
  std::array<int, 2> stdout_pipe{-1, -1};
  if (pipe2(stdout_pipe.data(), O_CLOEXEC) != 0) {
    throw_errno(errno, "pipe2 for the server's stdout");
  }
  std::array<int, 2> stderr_pipe{-1, -1};
  if (options.stderr_path.empty() && pipe2(stderr_pipe.data(), O_CLOEXEC) != 0) {
    const int error = errno;
    close(stdout_pipe[0]);
    close(stdout_pipe[1]);
    throw_errno(error, "pipe2 for the server's stderr");
  }

  SpawnSetup setup;
  posix_spawn_file_actions_adddup2(&setup.actions, stdout_pipe[1], STDOUT_FILENO);
  if (options.stderr_path.empty()) {
    posix_spawn_file_actions_adddup2(&setup.actions, stderr_pipe[1], STDERR_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&setup.actions, STDERR_FILENO, options.stderr_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }

  // The child starts with no blocked signals and default handlers, whatever
  // the test runner set for itself.
  sigset_t no_signals;
  sigemptyset(&no_signals);
  sigset_t default_signals;
  sigemptyset(&default_signals);
  sigaddset(&default_signals, SIGINT);
  sigaddset(&default_signals, SIGTERM);
  sigaddset(&default_signals, SIGPIPE);
  posix_spawnattr_setsigmask(&setup.attributes, &no_signals);
  posix_spawnattr_setsigdefault(&setup.attributes, &default_signals);
  posix_spawnattr_setflags(&setup.attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (const std::string& flag : options.flags) {
    argv.push_back(const_cast<char*>(flag.c_str()));
  }
  argv.push_back(nullptr);

  const int error =
      posix_spawn(&pid_, program.c_str(), &setup.actions, &setup.attributes, argv.data(), environ);
  close(stdout_pipe[1]);
  if (stderr_pipe[1] >= 0) {
    close(stderr_pipe[1]);
  }
  stdout_fd_ = stdout_pipe[0];
  stderr_fd_ = stderr_pipe[0];
  if (error != 0) {
    pid_ = -1;
    close_fd(stdout_fd_);
    close_fd(stderr_fd_);
    throw_errno(error, "posix_spawn of viewcache-lms");
  }
}

LmsProcess::~LmsProcess() {
  try {
    stop(std::chrono::seconds{5});
  } catch (const std::system_error&) {
    // Only waitpid() throws, and then there is no child left to reap.
  }
  close_fd(stdout_fd_);
  close_fd(stderr_fd_);
}

std::optional<std::string> LmsProcess::read_first_line(std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  std::string line;
  std::array<char, 256> buffer{};
  while (wait_readable(stdout_fd_, deadline)) {
    const ssize_t count = read(stdout_fd_, buffer.data(), buffer.size());
    if (count < 0 && errno == EINTR) {
      continue;
    }
    if (count <= 0) {
      return std::nullopt;  // the child closed stdout, most likely by exiting
    }
    line.append(buffer.data(), static_cast<std::size_t>(count));
    if (const std::size_t newline = line.find('\n'); newline != std::string::npos) {
      line.resize(newline);
      return line;
    }
  }
  return std::nullopt;
}

std::string LmsProcess::read_stderr(std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  std::string text;
  std::array<char, 1024> buffer{};
  while (stderr_fd_ >= 0 && wait_readable(stderr_fd_, deadline)) {
    const ssize_t count = read(stderr_fd_, buffer.data(), buffer.size());
    if (count < 0 && errno == EINTR) {
      continue;
    }
    if (count <= 0) {
      break;
    }
    text.append(buffer.data(), static_cast<std::size_t>(count));
  }
  return text;
}

std::optional<int> LmsProcess::wait_for_exit(std::chrono::milliseconds timeout) {
  if (exit_status_ || pid_ <= 0) {
    return exit_status_;
  }

  // waitpid() has no timeout, so poll it. The interval bounds only how late
  // an exit is noticed.
  const Clock::time_point deadline = Clock::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t reaped = waitpid(pid_, &status, WNOHANG);
    if (reaped == pid_) {
      exit_status_ = status;
      return exit_status_;
    }
    if (reaped < 0 && errno != EINTR) {
      throw_errno(errno, "waitpid for viewcache-lms");
    }
    if (Clock::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{2});
  }
}

void LmsProcess::send_signal(int signal_number) {
  if (pid_ > 0 && !exit_status_) {
    kill(pid_, signal_number);
  }
}

int LmsProcess::stop(std::chrono::milliseconds timeout) {
  if (exit_status_) {
    return *exit_status_;
  }
  if (pid_ <= 0) {
    return -1;  // never started; kill(-1) would signal every process
  }

  kill(pid_, SIGTERM);
  if (const std::optional<int> status = wait_for_exit(timeout)) {
    return *status;
  }

  kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  exit_status_ = status;
  return status;
}

}  // namespace lms_e2e
