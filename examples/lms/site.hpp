#pragma once

// Site: the routes of the example learning-management site and the adapter
// between cpp-httplib and viewcache::PageCache.
//
// Cached routes (GET and HEAD):
//   /home, /course/explore?page=N, /course/<id>, /page/<any path>  keyed per audience
//   /dashboard                                                     keyed per user
// Uncached routes:
//   GET /  (redirect to /home), POST /login, GET|POST /logout, GET /stats,
//   POST /course/<id>/edit  (the user "admin" only: sets the title, invalidates
//                            every page tagged with the course, redirects)
//   GET /metrics (Prometheus text format)
//
// Every cache event but hits is logged to stderr, one line each.

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "catalog.hpp"
#include "sessions.hpp"
#include "viewcache/memory_store.hpp"
#include "viewcache/page_cache.hpp"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace lms {

class Site {
 public:
  struct Options {
    // How long a rendered page stays in the cache. Zero stores nothing.
    std::chrono::seconds ttl{90};

    // Caches /dashboard, which names its reader, under the key all signed-in
    // users share, with the leak guard auditing every hit: a demonstration
    // of the guard catching a mis-keyed route.
    bool demo_mis_keyed = false;

    // How long every render of a cached route sleeps first, so that
    // concurrent misses (and single-flight) can be seen over HTTP.
    std::chrono::milliseconds render_delay{0};
  };

  // Throws std::runtime_error when OpenSSL cannot produce the random secret
  // for per-user keys.
  explicit Site(Options options);

  // Registers every route on server. The site must outlive the server's
  // last request.
  void add_routes(httplib::Server& server);

  // Returns the cache's counters in the Prometheus text format 0.0.4.
  [[nodiscard]] std::string metrics_text() const;

  // Returns the MemoryStore counters, the renders per route and the number of
  // sessions as a JSON object.
  [[nodiscard]] std::string stats_json() const;

 private:
  enum class Route : std::size_t { home, explore, course, content, dashboard };
  static constexpr std::size_t route_count = 5;

  template <typename Render>
  void serve_cached(const httplib::Request& http_request, httplib::Response& response,
                    Route route, Render render);

  // Returns the user of the request's session cookie, or std::nullopt for a
  // request without a cookie or with an unknown session id.
  [[nodiscard]] std::optional<std::string> find_user(const httplib::Request& request) const;

  void log_in(const httplib::Request& request, httplib::Response& response);
  void edit_course(const httplib::Request& request, httplib::Response& response);
  void log_out(const httplib::Request& request, httplib::Response& response);

  std::shared_ptr<viewcache::MemoryStore> store_;
  viewcache::PageCache cache_;
  // Per route, indexed by Route. Each has its own route name, so the leak
  // guard reports and disables one route at a time.
  std::array<viewcache::CacheOptions, route_count> options_;
  std::chrono::milliseconds render_delay_;
  Catalog catalog_;
  SessionTable sessions_;
  std::array<std::atomic<std::uint64_t>, route_count> renders_{};
};

}  // namespace lms
