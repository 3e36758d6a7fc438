// Redis as a page store: GET through hiredis (Debian libhiredis-dev) over
// loopback TCP and over a unix socket, each benchmark thread on its own
// connection. A GET copies the 16 KiB body into the reply, as any network
// store must.
//
// The benchmark starts its own redis-server on first use, on a free port with
// its socket in a temporary directory, without persistence (--save ''
// --appendonly no), fills it with the workload's pages and stops it at exit.
// When redis-server is not in $PATH, these benchmarks report an error and the
// others run. Built only when pkg-config finds hiredis.

#include <benchmark/benchmark.h>
#include <hiredis/hiredis.h>

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

#include "contenders/latency_sampler.hpp"
#include "contenders/server_process.hpp"
#include "contenders/workload.hpp"

namespace viewcache::bench {
namespace {

struct ContextFree {
  void operator()(redisContext* context) const noexcept { redisFree(context); }
};
using Connection = std::unique_ptr<redisContext, ContextFree>;

struct ReplyFree {
  void operator()(redisReply* reply) const noexcept { freeReplyObject(reply); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;

// hiredis returns replies as void*.
Reply command_reply(void* reply) { return Reply(static_cast<redisReply*>(reply)); }

std::string connection_error(const redisContext* context) {
  return context == nullptr ? "could not allocate a hiredis context" : context->errstr;
}

struct RedisServer {
  // Declared first, so it is removed after the server has stopped.
  TempDir directory{"viewcache-bench-redis"};
  std::filesystem::path socket_path = directory.path() / "redis.sock";
  std::uint16_t port = 0;
  std::unique_ptr<ServerProcess> process;
};

void fill(const RedisServer& server) {
  const Connection connection(redisConnectUnix(server.socket_path.c_str()));
  if (connection == nullptr || connection->err != 0) {
    throw std::runtime_error("connecting to redis-server to fill it failed: " +
                             connection_error(connection.get()));
  }

  // One pipeline of SETs, then every reply.
  for (std::size_t i = 0; i < key_count; ++i) {
    const std::string& key = keys()[i];
    const std::string& body = *bodies()[i];
    redisAppendCommand(connection.get(), "SET %b %b", key.data(), key.size(), body.data(),
                       body.size());
  }
  for (std::size_t i = 0; i < key_count; ++i) {
    void* raw = nullptr;
    if (redisGetReply(connection.get(), &raw) != REDIS_OK) {
      throw std::runtime_error("SET to redis-server failed: " + connection_error(connection.get()));
    }
    const Reply reply = command_reply(raw);
    if (reply->type == REDIS_REPLY_ERROR) {
      throw std::runtime_error("SET to redis-server failed: " + std::string(reply->str, reply->len));
    }
  }

  const Reply size = command_reply(redisCommand(connection.get(), "DBSIZE"));
  if (size == nullptr || size->type != REDIS_REPLY_INTEGER ||
      static_cast<std::size_t>(size->integer) != key_count) {
    throw std::runtime_error("redis-server DBSIZE after the fill is not " +
                             std::to_string(key_count) + "; check " +
                             (server.directory.path() / "redis.log").string());
  }
}

std::unique_ptr<RedisServer> start_redis(const std::filesystem::path& program) {
  auto server = std::make_unique<RedisServer>();
  const std::filesystem::path log = server->directory.path() / "redis.log";
  std::string last_error;

  // A port found free may be taken before redis-server binds it; try anew.
  for (int attempt = 0; attempt < 3; ++attempt) {
    server->port = free_loopback_port();
    const std::vector<std::string> arguments{
        "--bind", "127.0.0.1", "--port", std::to_string(server->port),
        "--unixsocket", server->socket_path.string(), "--unixsocketperm", "700",
        "--save", "", "--appendonly", "no", "--dir", server->directory.path().string(),
        "--daemonize", "no", "--protected-mode", "yes"};
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
  throw std::runtime_error("starting redis-server failed 3 times; the last error: " + last_error);
}

// The running, filled server, or why there is none. Started on first use and
// stopped by the destructor of the static at exit.
struct RedisFixture {
  std::unique_ptr<RedisServer> server;
  std::string error;
};

const RedisFixture& redis() {
  static const RedisFixture fixture = [] {
    RedisFixture started;
    const std::optional<std::filesystem::path> program = find_program("redis-server");
    if (!program) {
      started.error =
          "redis-server not found in PATH; install the Debian package redis-server "
          "(scripts/bench-latency.sh does) to run the Redis contenders";
      std::fprintf(stderr, "latency bench: %s\n", started.error.c_str());
      return started;
    }
    try {
      started.server = start_redis(*program);
      std::fprintf(stderr, "latency bench: started %s (pid %d) on 127.0.0.1:%u and %s\n",
                   program->c_str(), started.server->process->pid(),
                   static_cast<unsigned>(started.server->port),
                   started.server->socket_path.c_str());
    } catch (const std::exception& error) {
      started.error = error.what();
      std::fprintf(stderr, "latency bench: %s\n", started.error.c_str());
    }
    return started;
  }();
  return fixture;
}

enum class Transport { tcp, unix_socket };

void run_gets(benchmark::State& state, Transport transport) {
  const RedisFixture& fixture = redis();
  if (fixture.server == nullptr) {
    state.SkipWithError(fixture.error.c_str());
    return;
  }

  const Connection connection(transport == Transport::tcp
                                  ? redisConnect("127.0.0.1", fixture.server->port)
                                  : redisConnectUnix(fixture.server->socket_path.c_str()));
  if (connection == nullptr || connection->err != 0) {
    const std::string message = "connecting to redis-server failed: " +
                                connection_error(connection.get());
    state.SkipWithError(message.c_str());
    return;
  }

  const std::vector<std::string>& all_keys = keys();
  std::size_t index = first_key_for(state.thread_index());

  LatencySampler sampler(LatencySampler::per_call);
  for (auto _ : state) {
    const std::string& key = all_keys[index];
    const Reply reply =
        command_reply(redisCommand(connection.get(), "GET %b", key.data(), key.size()));
    if (reply == nullptr || reply->type != REDIS_REPLY_STRING || reply->len != page_bytes) {
      // Google Benchmark accepts leaving the loop early only after an error.
      const std::string message =
          "redis-server GET failed: " + (reply == nullptr ? connection_error(connection.get())
                                                          : key + " is not a 16 KiB string");
      state.SkipWithError(message.c_str());
      break;
    }
    benchmark::DoNotOptimize(reply->str);
    index = (index + 1) & key_mask;
    sampler.tick();
  }

  if (state.error_occurred()) {
    return;
  }
  sampler.report(state);
  state.SetItemsProcessed(state.iterations());
}

void BM_Hit_Redis_Tcp(benchmark::State& state) {
  state.SetLabel("Redis GET, hiredis, loopback TCP");
  run_gets(state, Transport::tcp);
}
BENCHMARK(BM_Hit_Redis_Tcp)->Threads(1)->Threads(2)->UseRealTime();

void BM_Hit_Redis_UnixSocket(benchmark::State& state) {
  state.SetLabel("Redis GET, hiredis, unix socket");
  run_gets(state, Transport::unix_socket);
}
BENCHMARK(BM_Hit_Redis_UnixSocket)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace viewcache::bench
