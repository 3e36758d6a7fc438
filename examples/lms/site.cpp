#include "site.hpp"

#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <array>
#include <string_view>
#include <thread>
#include <utility>

#include "pages.hpp"
#include "viewcache/auth_aware_key_policy.hpp"
#include "viewcache/metrics.hpp"

namespace lms {
namespace {

// Returns the first value of name in an application/x-www-form-urlencoded
// body. httplib's get_param_value() also reads the query string, so a login
// URL such as /login?user=mallory could choose the name.
std::string form_field(std::string_view body, std::string_view name) {
  while (!body.empty()) {
    const std::size_t amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    body.remove_prefix(amp == std::string_view::npos ? body.size() : amp + 1);
    const std::size_t equals = pair.find('=');
    if (httplib::detail::decode_url(std::string{pair.substr(0, equals)}, true) == name) {
      return equals == std::string_view::npos
                 ? std::string{}
                 : httplib::detail::decode_url(std::string{pair.substr(equals + 1)}, true);
    }
  }
  return {};
}

constexpr std::size_t user_secret_bytes = 32;

// The user name that makes a signed-in user an administrator, who may edit
// courses. A demo rule: any client can log in under this name.
constexpr std::string_view admin_user = "admin";

constexpr std::size_t max_title_bytes = 200;

// The request-target split at its first '?'. httplib's Request::path is
// percent-decoded, but the key policy needs the path as received, so that
// /page/a%2Fb and /page/a/b stay two requests.
struct Target {
  std::string_view path;
  std::string_view query;
};

Target split_target(std::string_view target) noexcept {
  const std::size_t question_mark = target.find('?');
  if (question_mark == std::string_view::npos) {
    return {target, {}};
  }
  return {target.substr(0, question_mark), target.substr(question_mark + 1)};
}

std::string random_user_secret() {
  std::array<unsigned char, user_secret_bytes> bytes{};
  fill_random_bytes(bytes, "the secret for per-user cache keys");
  return std::string(bytes.begin(), bytes.end());
}

std::string session_cookie(std::string_view id) {
  return fmt::format("{}={}; Path=/; HttpOnly; SameSite=Lax", session_cookie_name, id);
}

std::string expired_session_cookie() {
  return fmt::format("{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax", session_cookie_name);
}

bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
  const auto lower = [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  };
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [&](char x, char y) { return lower(x) == lower(y); });
}

void redirect_to_home(httplib::Response& response) {
  response.status = 303;
  response.set_header("Location", "/home");
  response.set_header("Cache-Control", "no-store");
}

// Writes one line to stderr per cache event. Keys and route names are quoted
// and escaped, because paths in keys are chosen by clients.
void log_cache_event(const viewcache::CacheEvent& event) {
  using viewcache::CacheEventKind;
  const std::string_view kind = viewcache::to_string(event.kind);
  const std::string_view audience = viewcache::to_label(event.audience);
  switch (event.kind) {
    case CacheEventKind::store:
      fmt::print(stderr, "viewcache-lms: cache {} route={:?} audience={} key={:?} bytes={}\n",
                 kind, event.route, audience, event.key, event.bytes);
      return;
    case CacheEventKind::refusal:
      fmt::print(stderr,
                 "viewcache-lms: cache {} route={:?} audience={} key={:?} reason={} status={}\n",
                 kind, event.route, audience, event.key, viewcache::to_string(event.decision),
                 event.status);
      return;
    case CacheEventKind::render_error:
    case CacheEventKind::warm_failure:
      fmt::print(stderr, "viewcache-lms: cache {} route={:?} audience={} key={:?} error={:?}\n",
                 kind, event.route, audience, event.key, event.message);
      return;
    case CacheEventKind::wait_timeout:
    case CacheEventKind::leak:
      fmt::print(stderr, "viewcache-lms: cache {} route={:?} audience={} key={:?}\n", kind,
                 event.route, audience, event.key);
      return;
    case CacheEventKind::bypass:
      fmt::print(stderr,
                 "viewcache-lms: cache {} route={:?} audience={} method={:?} reason={}\n", kind,
                 event.route, audience, event.method,
                 event.key_status == viewcache::KeyStatus::ok
                     ? std::string_view{"method"}
                     : viewcache::to_string(event.key_status));
      return;
  }
}

}  // namespace

viewcache::CacheOptions make_dashboard_options(const Site::Options& options) {
  if (options.demo_mis_keyed) {
    return {.route = "dashboard", .ttl = options.ttl, .leak_guard_sample = 1.0};
  }
  return {.route = "dashboard",
          .ttl = options.ttl,
          .key_policy = std::make_shared<const viewcache::AuthAwareKeyPolicy>(
              viewcache::AuthAwareKeyPolicy::Options{
                  .vary_by = viewcache::VariantScope::user,
                  .user_secret = random_user_secret(),
              })};
}

// The leak guard stays off on the routes that are keyed right, so the render
// counts in /stats stay exact for the tests that read them.
viewcache::CacheOptions shared_options(const Site::Options& options, std::string_view route) {
  return {.route = route, .ttl = options.ttl};
}

Site::Site(Options options)
    : store_(std::make_shared<viewcache::MemoryStore>()),
      cache_(store_, viewcache::PageCache::Options{.on_event = log_cache_event}),
      options_{shared_options(options, "home"), shared_options(options, "explore"),
               shared_options(options, "course"), shared_options(options, "page"),
               make_dashboard_options(options)},
      render_delay_(options.render_delay) {}

template <typename Render>
void Site::serve_cached(const httplib::Request& http_request, httplib::Response& response,
                        Route route, Render render) {
  // The viewer comes from the server-side session only. user must outlive
  // request, whose viewer points into it.
  const std::optional<std::string> user = find_user(http_request);
  const Target target = split_target(http_request.target);
  const viewcache::Request request{
      .method = http_request.method,
      .path = target.path,
      .query = target.query,
      .viewer = user ? viewcache::Viewer::signed_in(*user) : viewcache::Viewer::anonymous(),
  };

  const viewcache::CacheOptions& options = options_[static_cast<std::size_t>(route)];
  // The stored page is shared by every viewer of its key, so the user menu is
  // filled into the user-menu slot per response.
  const auto fill = [&user](std::string_view slot, std::string& out) {
    if (slot == user_menu_slot && user) {
      append_user_menu(*user, out);
    }
  };
  const viewcache::CacheResult result = cache_.cached(
      request, options,
      [&] {
        renders_[static_cast<std::size_t>(route)].fetch_add(1, std::memory_order_relaxed);
        if (render_delay_.count() > 0) {
          std::this_thread::sleep_for(render_delay_);
        }
        return render(request.viewer);
      },
      fill);

  const viewcache::Page& page = *result.page;
  for (const viewcache::Header& header : page.headers) {
    if (!equals_ignoring_case(header.name, "Content-Type")) {
      response.set_header(header.name, header.value);
    }
  }
  response.status = page.status;
  response.set_content(std::string{result.body()}, std::string(page.header("Content-Type")));

  // Every response of a cached route depends on the session cookie, so a
  // shared cache further down the line must not store it.
  response.set_header("Cache-Control", "private");
  response.set_header("Cache-Status", result.cache_status());
}

void Site::add_routes(httplib::Server& server) {
  server.Get("/", [](const httplib::Request&, httplib::Response& response) {
    response.set_redirect("/home");
  });

  server.Get("/home", [this](const httplib::Request& request, httplib::Response& response) {
    serve_cached(request, response, Route::home,
                 [this](const viewcache::Viewer& viewer) {
                   return render_home(catalog_, viewer.audience);
                 });
  });

  // Registered before /course/<id>, because httplib tries routes in order.
  server.Get("/course/explore", [this](const httplib::Request& request,
                                       httplib::Response& response) {
    const std::string page_number = request.get_param_value("page");
    serve_cached(request, response, Route::explore,
                 [&](const viewcache::Viewer& viewer) {
                   return render_explore(catalog_, viewer.audience, page_number);
                 });
  });

  server.Get("/course/([^/]+)", [this](const httplib::Request& request,
                                       httplib::Response& response) {
    const std::string course_id = request.matches[1];
    serve_cached(request, response, Route::course,
                 [&](const viewcache::Viewer& viewer) {
                   return render_course(catalog_, viewer.audience, course_id);
                 });
  });

  server.Post("/course/([^/]+)/edit", [this](const httplib::Request& request,
                                             httplib::Response& response) {
    edit_course(request, response);
  });

  server.Get(R"(/page/[\s\S]+)", [this](const httplib::Request& request, httplib::Response& response) {
    const Target target = split_target(request.target);
    serve_cached(request, response, Route::content,
                 [&](const viewcache::Viewer& viewer) {
                   return render_content(viewer.audience, target.path, target.query,
                                         request.params);
                 });
  });

  server.Get("/dashboard", [this](const httplib::Request& request, httplib::Response& response) {
    serve_cached(request, response, Route::dashboard,
                 [this](const viewcache::Viewer& viewer) {
                   return render_dashboard(catalog_, viewer);
                 });
  });

  server.Post("/login", [this](const httplib::Request& request, httplib::Response& response) {
    log_in(request, response);
  });
  const auto log_out_handler = [this](const httplib::Request& request,
                                      httplib::Response& response) {
    log_out(request, response);
  };
  server.Post("/logout", log_out_handler);
  server.Get("/logout", log_out_handler);

  server.Get("/stats", [this](const httplib::Request&, httplib::Response& response) {
    response.set_header("Cache-Control", "no-store");
    response.set_content(stats_json(), "application/json");
  });

  server.Get("/metrics", [this](const httplib::Request&, httplib::Response& response) {
    response.set_header("Cache-Control", "no-store");
    response.set_content(metrics_text(), "text/plain; version=0.0.4");
  });
}

std::optional<std::string> Site::find_user(const httplib::Request& request) const {
  const std::string cookie_header = request.get_header_value("Cookie");
  const std::string_view id = find_session_cookie(cookie_header);
  if (id.empty()) {
    return std::nullopt;
  }
  return sessions_.find_user(id);
}

void Site::log_in(const httplib::Request& request, httplib::Response& response) {
  const std::string user = form_field(request.body, "user");
  if (user.empty()) {
    fmt::print(stderr, "viewcache-lms: rejected login without a user field\n");
    response.status = 400;
    response.set_header("Cache-Control", "no-store");
    response.set_content(render_login_error(user), "text/html; charset=utf-8");
    return;
  }
  if (!is_valid_user_name(user)) {
    fmt::print(stderr, "viewcache-lms: rejected login with invalid user name {:?}\n", user);
    response.status = 400;
    response.set_header("Cache-Control", "no-store");
    response.set_content(render_login_error(user), "text/html; charset=utf-8");
    return;
  }

  // A new login always gets a new session id, and the old one stops working.
  const std::string cookie_header = request.get_header_value("Cookie");
  if (const std::string_view old_id = find_session_cookie(cookie_header); !old_id.empty()) {
    sessions_.erase(old_id);
  }
  const std::string id = sessions_.create(user);

  fmt::print(stderr, "viewcache-lms: {} logged in\n", user);
  response.set_header("Set-Cookie", session_cookie(id));
  redirect_to_home(response);
}

void Site::edit_course(const httplib::Request& request, httplib::Response& response) {
  const std::string course_id = request.matches[1];
  response.set_header("Cache-Control", "no-store");
  const auto reject = [&](int status, std::string_view heading, std::string_view message) {
    fmt::print(stderr, "viewcache-lms: rejected edit of course {:?}: {}\n", course_id, message);
    response.status = status;
    response.set_content(render_edit_error(heading, message), "text/html; charset=utf-8");
  };

  const std::optional<std::string> user = find_user(request);
  if (user != admin_user) {
    reject(403, "Forbidden", "Only the administrator may edit courses. Log in as admin.");
    return;
  }

  std::string title = form_field(request.body, "title");
  const bool has_control = std::any_of(title.begin(), title.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7F;
  });
  if (title.empty() || title.size() > max_title_bytes || has_control) {
    reject(400, "Invalid title",
           fmt::format("The form field title is missing, longer than {} bytes, or contains "
                       "control characters such as a line break; give one line of 1 to {} "
                       "bytes.",
                       max_title_bytes, max_title_bytes));
    return;
  }

  // The catalog changes first, so a render that starts after the
  // invalidation reads the new title.
  if (!catalog_.set_title(course_id, title)) {
    reject(404, "Course not found", "There is no course with this id.");
    return;
  }
  const std::size_t removed = cache_.invalidate_tag(course_tag(course_id));
  fmt::print(stderr, "viewcache-lms: {} renamed course {} to {:?}; invalidated {} cached pages\n",
             *user, course_id, title, removed);

  response.status = 303;
  response.set_header("Location", fmt::format("/course/{}", course_id));
}

void Site::log_out(const httplib::Request& request, httplib::Response& response) {
  const std::string cookie_header = request.get_header_value("Cookie");
  if (const std::string_view id = find_session_cookie(cookie_header); !id.empty()) {
    if (const std::optional<std::string> user = sessions_.find_user(id)) {
      fmt::print(stderr, "viewcache-lms: {} logged out\n", *user);
    }
    sessions_.erase(id);
  }

  response.set_header("Set-Cookie", expired_session_cookie());
  redirect_to_home(response);
}

std::string Site::metrics_text() const {
  std::string text;
  viewcache::write_prometheus(cache_, text);
  return text;
}

std::string Site::stats_json() const {
  const viewcache::MemoryStore::Stats stats = store_->stats();
  const auto renders = [this](Route route) {
    return renders_[static_cast<std::size_t>(route)].load(std::memory_order_relaxed);
  };
  return fmt::format(
      R"({{"store":{{"entries":{},"bytes":{},"hits":{},"misses":{},"inserts":{},"rejected":{},)"
      R"("evicted_capacity":{},"evicted_expired":{},"erased":{},"invalidated":{},)"
      R"("front_hits":{},"replayed_hits":{}}},)"
      R"("renders":{{"home":{},"explore":{},"course":{},"page":{},"dashboard":{}}},)"
      R"("sessions":{}}})"
      "\n",
      stats.entries, stats.bytes, stats.hits, stats.misses, stats.inserts, stats.rejected,
      stats.evicted_capacity, stats.evicted_expired, stats.erased, stats.invalidated,
      stats.front_hits, stats.replayed_hits, renders(Route::home),
      renders(Route::explore), renders(Route::course), renders(Route::content),
      renders(Route::dashboard), sessions_.size());
}

}  // namespace lms
