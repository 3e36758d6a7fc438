#include "contenders/server_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace viewcache::bench {
namespace {

std::system_error last_system_error(const std::string& operation) {
  return {errno, std::generic_category(), operation};
}

// A socket that closes itself.
class Socket {
 public:
  explicit Socket(int descriptor) noexcept : descriptor_(descriptor) {}
  ~Socket() {
    if (descriptor_ >= 0) {
      ::close(descriptor_);
    }
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  [[nodiscard]] int get() const noexcept { return descriptor_; }

 private:
  int descriptor_;
};

sockaddr_in loopback_address(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

// The POSIX socket calls take a generic sockaddr; the cast is the interface.
sockaddr* generic(sockaddr_in& address) noexcept {
  return reinterpret_cast<sockaddr*>(&address);
}

bool child_has_exited(pid_t pid) noexcept {
  int status = 0;
  return ::waitpid(pid, &status, WNOHANG) == pid;
}

}  // namespace

std::optional<std::filesystem::path> find_program(std::string_view name) {
  const char* search_path = std::getenv("PATH");
  if (search_path == nullptr) {
    return std::nullopt;
  }
  std::string_view remaining = search_path;
  while (!remaining.empty()) {
    const std::size_t colon = remaining.find(':');
    const std::string_view directory = remaining.substr(0, colon);
    remaining = colon == std::string_view::npos ? std::string_view{} : remaining.substr(colon + 1);
    if (directory.empty()) {
      continue;
    }
    std::filesystem::path candidate = std::filesystem::path(directory) / name;
    if (::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return std::nullopt;
}

std::uint16_t free_loopback_port() {
  const Socket socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (socket.get() < 0) {
    throw last_system_error("socket() for a free port failed");
  }
  sockaddr_in address = loopback_address(0);
  if (::bind(socket.get(), generic(address), sizeof address) != 0) {
    throw last_system_error("bind() to 127.0.0.1:0 failed");
  }
  socklen_t length = sizeof address;
  if (::getsockname(socket.get(), generic(address), &length) != 0) {
    throw last_system_error("getsockname() failed");
  }
  return ntohs(address.sin_port);
}

bool accepts_connections(std::uint16_t port) {
  const Socket socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (socket.get() < 0) {
    return false;
  }
  sockaddr_in address = loopback_address(port);
  return ::connect(socket.get(), generic(address), sizeof address) == 0;
}

TempDir::TempDir(std::string_view prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = (std::filesystem::path(base != nullptr && *base != '\0' ? base : "/tmp") /
                         (std::string(prefix) + "-XXXXXX"))
                            .string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw last_system_error("mkdtemp(\"" + pattern + "\") failed");
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

ServerProcess::ServerProcess(const std::filesystem::path& program,
                             const std::vector<std::string>& arguments,
                             const std::filesystem::path& log_path,
                             const std::function<bool()>& ready,
                             std::chrono::milliseconds timeout) {
  // Everything the child needs is prepared before fork, because a child of a
  // multi-threaded process may only call async-signal-safe functions.
  std::vector<std::string> argument_strings;
  argument_strings.push_back(program.string());
  argument_strings.insert(argument_strings.end(), arguments.begin(), arguments.end());
  std::vector<char*> argv;
  for (std::string& argument : argument_strings) {
    argv.push_back(argument.data());
  }
  argv.push_back(nullptr);

  const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log < 0) {
    throw last_system_error("open(\"" + log_path.string() + "\") for the server log failed");
  }
  const bool from_main_thread = ::gettid() == ::getpid();
  const pid_t parent = ::getpid();

  pid_ = ::fork();
  if (pid_ < 0) {
    ::close(log);
    throw last_system_error("fork() for " + program.string() + " failed");
  }
  if (pid_ == 0) {
    if (from_main_thread) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) {
        ::_exit(127);
      }
    }
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    // The benchmark's own descriptors (its JSON output, client sockets) stay
    // out of the server.
    ::close_range(3, ~0U, 0);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(log);

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!ready()) {
    if (child_has_exited(pid_)) {
      pid_ = -1;
      throw std::runtime_error(program.filename().string() + " exited while starting; the end of " +
                               log_path.string() + ":\n" + read_tail(log_path, 2048));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      stop();
      throw std::runtime_error(program.filename().string() + " was not ready within " +
                               std::to_string(timeout.count()) + " ms; the end of " +
                               log_path.string() + ":\n" + read_tail(log_path, 2048));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
}

ServerProcess::~ServerProcess() { stop(); }

void ServerProcess::stop() noexcept {
  if (pid_ <= 0) {
    return;
  }
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{5};
  while (!child_has_exited(pid_)) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  pid_ = -1;
}

std::string read_tail(const std::filesystem::path& path, std::size_t max_bytes) {
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) {
    return {};
  }
  const auto size = static_cast<std::size_t>(file.tellg());
  const std::size_t start = size > max_bytes ? size - max_bytes : 0;
  file.seekg(static_cast<std::streamoff>(start));
  std::string tail(size - start, '\0');
  file.read(tail.data(), static_cast<std::streamsize>(tail.size()));
  return tail;
}

}  // namespace viewcache::bench
