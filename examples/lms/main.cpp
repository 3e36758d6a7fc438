// viewcache-lms: a small learning-management site served through
// viewcache::PageCache, for trying the cache by hand and for end-to-end tests.
//
// The first line on stdout is the URL the server listens on. Requests are
// logged to stderr, one line each. SIGINT and SIGTERM stop the server.

#include <fmt/format.h>
#include <httplib.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "pages.hpp"
#include "site.hpp"

namespace {

constexpr std::string_view program = "viewcache-lms";
constexpr int exit_usage = 2;

// One year. Far below the point where seconds overflow as milliseconds.
constexpr std::int64_t max_ttl_seconds = 365LL * 24 * 60 * 60;

// One minute: a render delay is for demonstrations, and a longer one would
// only hold server threads.
constexpr std::int64_t max_render_delay_ms = 60'000;

struct Flags {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::int64_t ttl_seconds = 90;
  bool demo_mis_keyed = false;
  std::int64_t render_delay_ms = 0;
  bool help = false;
};

void print_usage(std::FILE* out) {
  fmt::print(out,
             "Usage: {} [--host HOST] [--port PORT] [--ttl SECONDS] [--render-delay-ms MS]\n"
             "             [--demo-mis-keyed]\n"
             "\n"
             "Serves the example learning-management site through viewcache.\n"
             "\n"
             "  --host HOST    address to listen on (default 127.0.0.1)\n"
             "  --port PORT    TCP port from 0 to 65535; 0 picks a free port (default 8080)\n"
             "  --ttl SECONDS  how long a page stays cached, from 0 to {}; 0 caches\n"
             "                 nothing (default 90)\n"
             "  --render-delay-ms MS\n"
             "                 milliseconds every page render sleeps first, from 0 to {},\n"
             "                 to show concurrent misses (default 0)\n"
             "  --demo-mis-keyed\n"
             "                 cache /dashboard, which names its reader, under the key all\n"
             "                 signed-in users share, and let the leak guard catch it\n"
             "  --help         print this help and exit\n"
             "\n"
             "The first line on stdout is the URL the server listens on.\n",
             program, max_ttl_seconds, max_render_delay_ms);
}

// Parses text as a whole decimal number from min to max, or returns std::nullopt.
std::optional<std::int64_t> parse_number(std::string_view text, std::int64_t min,
                                         std::int64_t max) {
  std::int64_t value = 0;
  const char* const end = text.data() + text.size();
  const auto [parsed_end, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc{} || parsed_end != end || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

// Parses argv into flags. Returns an error message naming the bad argument
// and the fix, or an empty string on success. Accepts "--flag value" and
// "--flag=value".
std::string parse_flags(int argc, char** argv, Flags& flags) {
  for (int i = 1; i < argc; ++i) {
    std::string_view argument = argv[i];
    std::optional<std::string_view> inline_value;
    if (const std::size_t equals = argument.find('='); equals != std::string_view::npos) {
      inline_value = argument.substr(equals + 1);
      argument = argument.substr(0, equals);
    }

    if (argument == "--help" && !inline_value) {
      flags.help = true;
      continue;
    }
    if (argument == "--demo-mis-keyed" && !inline_value) {
      flags.demo_mis_keyed = true;
      continue;
    }
    if (argument != "--host" && argument != "--port" && argument != "--ttl" &&
        argument != "--render-delay-ms") {
      return fmt::format("unknown flag \"{}\"; run {} --help for the flags", argv[i], program);
    }

    std::string_view value;
    if (inline_value) {
      value = *inline_value;
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return fmt::format("flag {} is missing its value; run {} --help for the flags", argument,
                         program);
    }

    if (argument == "--host") {
      if (value.empty()) {
        return "invalid --host \"\": give an address such as 127.0.0.1";
      }
      flags.host = value;
    } else if (argument == "--port") {
      const std::optional<std::int64_t> port = parse_number(value, 0, 65535);
      if (!port) {
        return fmt::format(
            "invalid --port \"{}\": give a whole number from 0 to 65535 (0 picks a free port)",
            value);
      }
      flags.port = static_cast<int>(*port);
    } else if (argument == "--render-delay-ms") {
      const std::optional<std::int64_t> delay = parse_number(value, 0, max_render_delay_ms);
      if (!delay) {
        return fmt::format(
            "invalid --render-delay-ms \"{}\": give a whole number of milliseconds from 0 to {}",
            value, max_render_delay_ms);
      }
      flags.render_delay_ms = *delay;
    } else {
      const std::optional<std::int64_t> ttl = parse_number(value, 0, max_ttl_seconds);
      if (!ttl) {
        return fmt::format(
            "invalid --ttl \"{}\": give a whole number of seconds from 0 to {} (0 caches nothing)",
            value, max_ttl_seconds);
      }
      flags.ttl_seconds = *ttl;
    }
  }
  return {};
}

std::string url_for(std::string_view host, int port) {
  // An IPv6 address needs brackets in a URL (RFC 3986, section 3.2.2).
  if (host.find(':') != std::string_view::npos) {
    return fmt::format("http://[{}]:{}", host, port);
  }
  return fmt::format("http://{}:{}", host, port);
}

void configure_server(httplib::Server& server) {
  // httplib writes the headers and the body with separate send() calls. With
  // Nagle's algorithm on, the body then waits for the client's delayed ACK.
  server.set_tcp_nodelay(true);

  // httplib's default socket options set SO_REUSEPORT, which lets a second
  // server bind a port that is in use and take half of its connections.
  // SO_REUSEADDR alone allows a quick restart but fails on a live port.
  server.set_socket_options([](socket_t socket) {
    const int enable = 1;
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &enable, sizeof(enable));
  });

  server.set_logger([](const httplib::Request& request, const httplib::Response& response) {
    const std::string cache_status = response.get_header_value("Cache-Status");
    // The target is quoted and escaped because a client chooses its bytes.
    fmt::print(stderr, "{} {:?} {} {}\n", request.method, request.target, response.status,
               cache_status.empty() ? "-" : cache_status);
  });

  server.set_exception_handler(
      [](const httplib::Request& request, httplib::Response& response, std::exception_ptr error) {
        std::string what = "unknown exception";
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& exception) {
          what = exception.what();
        } catch (...) {
        }
        fmt::print(stderr, "{}: {} {:?} failed: {}\n", program, request.method, request.target,
                   what);
        response.status = 500;
        response.set_content("Internal server error\n", "text/plain; charset=utf-8");
      });

  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request&, httplib::Response& response) {
        // Routes that render their own error page keep it.
        if (!response.body.empty() || response.status != 404) {
          return httplib::Server::HandlerResponse::Unhandled;
        }
        response.set_content(lms::render_not_found(), "text/html; charset=utf-8");
        return httplib::Server::HandlerResponse::Handled;
      }));
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (const std::string error = parse_flags(argc, argv, flags); !error.empty()) {
    fmt::print(stderr, "{}: {}\n", program, error);
    return exit_usage;
  }
  if (flags.help) {
    print_usage(stdout);
    return 0;
  }

  // The stop signals are blocked in every thread, and one thread takes them
  // with sigwait(). Threads inherit the mask, so this runs before any thread
  // starts. SIGPIPE is ignored so a client that hangs up cannot end the process.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  lms::Site site({.ttl = std::chrono::seconds{flags.ttl_seconds},
                  .demo_mis_keyed = flags.demo_mis_keyed,
                  .render_delay = std::chrono::milliseconds{flags.render_delay_ms}});
  httplib::Server server;
  configure_server(server);
  site.add_routes(server);

  int port = flags.port;
  if (port == 0) {
    port = server.bind_to_any_port(flags.host);
  } else if (!server.bind_to_port(flags.host, port)) {
    port = -1;
  }
  if (port < 0 && flags.port != 0) {
    fmt::print(stderr, "{}: failed to listen on {}:{}; the port may be in use or the address "
                       "not local; try --port 0 for a free port\n",
               program, flags.host, flags.port);
    return 1;
  }
  if (port < 0) {
    fmt::print(stderr, "{}: failed to listen on {}; the address is not a local address of this "
                       "machine or does not resolve; use an IP address such as 127.0.0.1\n",
               program, flags.host);
    return 1;
  }

  const std::string url = url_for(flags.host, port);
  fmt::print("{}\n", url);
  std::fflush(stdout);
  fmt::print(stderr, "{}: serving at {} with a page TTL of {} s and a render delay of {} ms\n",
             program, url, flags.ttl_seconds, flags.render_delay_ms);

  std::atomic<bool> listen_returned{false};
  std::thread signal_waiter([&] {
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    if (listen_returned) {
      return;  // main woke this thread after listen_after_bind() returned
    }
    fmt::print(stderr, "{}: received {}, stopping\n", program,
               signal_number == SIGINT ? "SIGINT" : "SIGTERM");

    // stop() does nothing until listen_after_bind() has marked the server as
    // running, so a signal that arrives during startup waits for that moment.
    while (!server.is_running() && !listen_returned) {
      std::this_thread::sleep_for(std::chrono::milliseconds{1});
    }
    server.stop();
  });

  const bool listened = server.listen_after_bind();
  listen_returned = true;
  pthread_kill(signal_waiter.native_handle(), SIGTERM);
  signal_waiter.join();

  if (!listened) {
    fmt::print(stderr, "{}: the server at {} stopped with an error\n", program, url);
    return 1;
  }
  fmt::print(stderr, "{}: stopped\n", program);
  return 0;
}
