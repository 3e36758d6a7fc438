// memcached as a page store: memcached_get() through libmemcached (Debian
// libmemcached-dev 1.1) over loopback TCP with TCP_NODELAY, each benchmark
// thread on its own connection. Every GET returns a malloc'ed copy of the
// 16 KiB body, which the caller frees.
//
// The benchmark starts its own memcached on first use, on a free loopback
// port with 64 MiB for items (the pages take 16 MiB plus slab overhead),
// fills it and stops it at exit. When memcached is not in $PATH, this
// benchmark reports an error and the others run. Built only when pkg-config
// finds libmemcached.

#include <benchmark/benchmark.h>
#include <libmemcached/memcached.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

#include "contenders/latency_sampler.hpp"
#include "contenders/server_process.hpp"
#include "contenders/workload.hpp"

namespace viewcache::bench {
namespace {

constexpr std::string_view memory_megabytes = "64";

struct ClientFree {
  void operator()(memcached_st* client) const noexcept { memcached_free(client); }
};
using Client = std::unique_ptr<memcached_st, ClientFree>;

struct ValueFree {
  void operator()(char* value) const noexcept { std::free(value); }
};
using Value = std::unique_ptr<char, ValueFree>;

Client connect(std::uint16_t port) {
  Client client(memcached_create(nullptr));
  if (client == nullptr) {
    throw std::runtime_error("memcached_create() failed");
  }
  memcached_behavior_set(client.get(), MEMCACHED_BEHAVIOR_TCP_NODELAY, 1);
  const memcached_return_t added = memcached_server_add(client.get(), "127.0.0.1", port);
  if (added != MEMCACHED_SUCCESS) {
    throw std::runtime_error(std::string("memcached_server_add() failed: ") +
                             memcached_strerror(client.get(), added));
  }
  return client;
}

struct MemcachedServer {
  // Declared first, so it is removed after the server has stopped.
  TempDir directory{"viewcache-bench-memcached"};
  std::uint16_t port = 0;
  std::unique_ptr<ServerProcess> process;
};

void fill(const MemcachedServer& server) {
  const Client client = connect(server.port);
  for (std::size_t i = 0; i < key_count; ++i) {
    const std::string& key = keys()[i];
    const std::string& body = *bodies()[i];
    const memcached_return_t stored =
        memcached_set(client.get(), key.data(), key.size(), body.data(), body.size(), 0, 0);
    if (stored != MEMCACHED_SUCCESS) {
      throw std::runtime_error("memcached SET " + key + " failed: " +
                               memcached_strerror(client.get(), stored));
    }
  }

  // memcached may drop items it has no room for, so every key is read back.
  for (const std::string& key : keys()) {
    std::size_t length = 0;
    std::uint32_t flags = 0;
    memcached_return_t result = MEMCACHED_SUCCESS;
    const Value value(
        memcached_get(client.get(), key.data(), key.size(), &length, &flags, &result));
    if (value == nullptr || length != page_bytes) {
      throw std::runtime_error("memcached lost " + key + " after SET; give it more than " +
                               std::string(memory_megabytes) + " MiB");
    }
  }
}

std::unique_ptr<MemcachedServer> start_memcached(const std::filesystem::path& program) {
  auto server = std::make_unique<MemcachedServer>();
  const std::filesystem::path log = server->directory.path() / "memcached.log";
  std::string last_error;

  // A port found free may be taken before memcached binds it; try anew.
  for (int attempt = 0; attempt < 3; ++attempt) {
    server->port = free_loopback_port();
    std::vector<std::string> arguments{"--listen", "127.0.0.1",
                                       "--port", std::to_string(server->port),
                                       "--udp-port", "0",
                                       "--memory-limit", std::string(memory_megabytes),
                                       "--threads", "2"};
    // memcached does not start as root without --user.
    if (::geteuid() == 0) {
      arguments.insert(arguments.end(), {"--user", "root"});
    }
    const std::uint16_t port = server->port;
    try {
      server->process = std::make_unique<ServerProcess>(
          program, arguments, log, [port] { return accepts_connections(port); },
          std::chrono::seconds{10});
      fill(*server);
      return server;
    } catch (const std::runtime_error& error) {
      server->process.reset();
      last_error = error.what();
    }
  }
  throw std::runtime_error("starting memcached failed 3 times; the last error: " + last_error);
}

// The running, filled server, or why there is none. Started on first use and
// stopped by the destructor of the static at exit.
struct MemcachedFixture {
  std::unique_ptr<MemcachedServer> server;
  std::string error;
};

const MemcachedFixture& memcached() {
  static const MemcachedFixture fixture = [] {
    MemcachedFixture started;
    const std::optional<std::filesystem::path> program = find_program("memcached");
    if (!program) {
      started.error =
          "memcached not found in PATH; install the Debian package memcached "
          "(scripts/bench-latency.sh does) to run the memcached contender";
      std::fprintf(stderr, "latency bench: %s\n", started.error.c_str());
      return started;
    }
    try {
      started.server = start_memcached(*program);
      std::fprintf(stderr, "latency bench: started %s (pid %d) on 127.0.0.1:%u\n",
                   program->c_str(), started.server->process->pid(),
                   static_cast<unsigned>(started.server->port));
    } catch (const std::exception& error) {
      started.error = error.what();
      std::fprintf(stderr, "latency bench: %s\n", started.error.c_str());
    }
    return started;
  }();
  return fixture;
}

void BM_Hit_Memcached_Tcp(benchmark::State& state) {
  state.SetLabel("memcached get, libmemcached, loopback TCP");
  const MemcachedFixture& fixture = memcached();
  if (fixture.server == nullptr) {
    state.SkipWithError(fixture.error.c_str());
    return;
  }

  Client client;
  try {
    client = connect(fixture.server->port);
  } catch (const std::runtime_error& error) {
    state.SkipWithError(error.what());
    return;
  }

  const std::vector<std::string>& all_keys = keys();
  std::size_t index = first_key_for(state.thread_index());

  LatencySampler sampler(LatencySampler::per_call);
  for (auto _ : state) {
    const std::string& key = all_keys[index];
    std::size_t length = 0;
    std::uint32_t flags = 0;
    memcached_return_t result = MEMCACHED_SUCCESS;
    const Value value(
        memcached_get(client.get(), key.data(), key.size(), &length, &flags, &result));
    if (value == nullptr || length != page_bytes) {
      // Google Benchmark accepts leaving the loop early only after an error.
      const std::string message = "memcached get " + key + " failed: " +
                                  memcached_strerror(client.get(), result);
      state.SkipWithError(message.c_str());
      break;
    }
    benchmark::DoNotOptimize(value.get());
    index = (index + 1) & key_mask;
    sampler.tick();
  }

  if (state.error_occurred()) {
    return;
  }
  sampler.report(state);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Hit_Memcached_Tcp)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace viewcache::bench
