// End-to-end tests of viewcache-lms: the real server binary on a loopback
// port, driven by real HTTP clients that keep their own session cookies.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/wait.h>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <latch>
#include <memory>
#include <optional>
#include <sstream>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "lms_process.hpp"

namespace {

using namespace std::chrono_literals;
using lms_e2e::LmsProcess;

constexpr std::string_view login_button = ">Log in</button>";
constexpr std::string_view logout_button = ">Log out</button>";

// The cached pages the concurrent tests cycle through.
constexpr std::array<std::string_view, 8> shared_targets{
    "/home",     "/course/explore?page=1", "/course/explore?page=2", "/course/explore?page=3",
    "/course/1", "/course/2",              "/course/3",              "/page/a/b?x=1",
};

// One HTTP response, or the transport error that replaced it.
struct Fetched {
  int status = 0;
  std::string body;
  std::string cache_status;
  std::string location;
  std::vector<std::string> set_cookies;
  std::string error;  // empty when a response arrived
};

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

bool is_hit(std::string_view cache_status) { return cache_status.starts_with("viewcache; hit"); }

// Returns the value of the first attribute called name in body, or
// std::nullopt when body has none.
std::optional<std::string> attribute(std::string_view body, std::string_view name) {
  const std::string opening = fmt::format(" {}=\"", name);
  const std::size_t start = body.find(opening);
  if (start == std::string_view::npos) {
    return std::nullopt;
  }
  const std::size_t value_start = start + opening.size();
  const std::size_t value_end = body.find('"', value_start);
  if (value_end == std::string_view::npos) {
    return std::nullopt;
  }
  return std::string(body.substr(value_start, value_end - value_start));
}

// Returns the text of the element with id, up to the next '<'.
std::optional<std::string> element_text(std::string_view body, std::string_view id) {
  const std::string opening = fmt::format(" id=\"{}\">", id);
  const std::size_t start = body.find(opening);
  if (start == std::string_view::npos) {
    return std::nullopt;
  }
  const std::size_t text_start = start + opening.size();
  return std::string(body.substr(text_start, body.find('<', text_start) - text_start));
}

// Returns the number after "name": inside the "section":{...} object of the
// /stats JSON, or -1 when it is missing.
std::int64_t stats_counter(std::string_view json, std::string_view section,
                           std::string_view name) {
  const std::size_t section_start = json.find(fmt::format("\"{}\":{{", section));
  if (section_start == std::string_view::npos) {
    return -1;
  }
  const std::string key = fmt::format("\"{}\":", name);
  const std::size_t key_start = json.find(key, section_start);
  if (key_start == std::string_view::npos || key_start > json.find('}', section_start)) {
    return -1;
  }
  return std::stoll(std::string(json.substr(key_start + key.size())));
}

// Returns the value of the sample that starts with series (name and labels,
// as viewcache-lms writes them) in a Prometheus text body, or -1 when it is
// missing.
std::int64_t metric_value(std::string_view text, std::string_view series) {
  const std::string line_start = fmt::format("\n{} ", series);
  const std::size_t start = text.find(line_start);
  if (start == std::string_view::npos) {
    return -1;
  }
  return std::stoll(std::string(text.substr(start + line_start.size())));
}

// An HTTP client with one session cookie, kept by hand as a browser would.
// Redirects are not followed, so each response can be checked.
class Browser {
 public:
  explicit Browser(const std::string& url) : client_(url) {
    client_.set_keep_alive(true);
    client_.set_follow_location(false);
    // Send targets byte for byte: the collision tests depend on %2F and %3F.
    client_.set_url_encode(false);
    client_.set_connection_timeout(5s);
    client_.set_read_timeout(10s);
  }

  Fetched get(const std::string& target) { return receive(client_.Get(target, headers())); }

  Fetched log_in(const std::string& user) {
    return receive(client_.Post("/login", headers(), httplib::Params{{"user", user}}));
  }

  Fetched log_out() { return receive(client_.Post("/logout", headers(), "", "text/plain")); }

  Fetched edit_course(const std::string& id, const std::string& title) {
    return receive(client_.Post(fmt::format("/course/{}/edit", id), headers(),
                                httplib::Params{{"title", title}}));
  }

  [[nodiscard]] const std::string& session() const noexcept { return session_; }
  void set_session(std::string session) { session_ = std::move(session); }

 private:
  [[nodiscard]] httplib::Headers headers() const {
    if (session_.empty()) {
      return {};
    }
    return {{"Cookie", "session=" + session_}};
  }

  Fetched receive(const httplib::Result& result) {
    Fetched fetched;
    if (!result) {
      fetched.error = httplib::to_string(result.error());
      return fetched;
    }

    fetched.status = result->status;
    fetched.body = result->body;
    fetched.cache_status = result->get_header_value("Cache-Status");
    fetched.location = result->get_header_value("Location");
    for (std::size_t i = 0; i < result->get_header_value_count("Set-Cookie"); ++i) {
      fetched.set_cookies.push_back(result->get_header_value("Set-Cookie", i));
    }

    for (const std::string& cookie : fetched.set_cookies) {
      if (cookie.starts_with("session=")) {
        const std::string value = cookie.substr(8, cookie.find(';') - 8);
        session_ = contains(cookie, "Max-Age=0") ? std::string() : value;
      }
    }
    return fetched;
  }

  httplib::Client client_;
  std::string session_;
};

// Counts of what one client was served over many requests.
struct BrowseTally {
  int errors = 0;
  int bad_status = 0;
  int wrong_audience = 0;
  int wrong_user = 0;
  int foreign_name = 0;  // bodies that contain another user's name
  int hits = 0;
};

// Sends `requests` GET requests, cycling through targets, and checks each page
// against the audience and user the browser should be served.
BrowseTally browse(Browser& browser, std::span<const std::string_view> targets, int requests,
                   std::string_view audience, const std::optional<std::string>& user,
                   std::string_view foreign_user, std::latch& start) {
  start.arrive_and_wait();

  BrowseTally tally;
  for (int i = 0; i < requests; ++i) {
    const auto target = targets[static_cast<std::size_t>(i) % targets.size()];
    const Fetched page = browser.get(std::string(target));
    if (!page.error.empty()) {
      ++tally.errors;
      continue;
    }
    tally.bad_status += page.status == 200 ? 0 : 1;
    tally.wrong_audience += attribute(page.body, "data-audience") == audience ? 0 : 1;
    tally.wrong_user += attribute(page.body, "data-user") == user ? 0 : 1;
    tally.foreign_name +=
        !foreign_user.empty() && contains(page.body, foreign_user) ? 1 : 0;
    tally.hits += is_hit(page.cache_status) ? 1 : 0;
  }
  return tally;
}

class LmsSite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // httplib sends without MSG_NOSIGNAL. A server that closes a connection
    // must fail the request, not end the test run with SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
  }

  void SetUp() override {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    log_path_ = std::filesystem::absolute(fmt::format("lms_e2e_{}.log", test->name()));
    server_ = std::make_unique<LmsProcess>(
        VIEWCACHE_LMS_PATH, LmsProcess::Options{.flags = {"--port", "0"},
                                                .stderr_path = log_path_.string()});

    const std::optional<std::string> line = server_->read_first_line(10s);
    ASSERT_TRUE(line.has_value()) << "viewcache-lms printed no URL within 10 s; its log is "
                                  << log_path_;
    ASSERT_TRUE(line->starts_with("http://127.0.0.1:")) << "first stdout line: " << *line;
    url_ = *line;
  }

  void TearDown() override {
    if (server_ == nullptr) {
      return;
    }
    const int status = server_->stop(10s);
    EXPECT_TRUE(WIFEXITED(status)) << "viewcache-lms did not exit on SIGTERM; wait status "
                                   << status;
    EXPECT_EQ(WEXITSTATUS(status), 0) << "viewcache-lms exited with an error on SIGTERM";
    if (HasFailure()) {
      std::cerr << "viewcache-lms log: " << log_path_ << '\n';
    }
  }

  std::string stats() {
    Browser browser(url_);
    return browser.get("/stats").body;
  }

  std::filesystem::path log_path_;
  std::unique_ptr<LmsProcess> server_;
  std::string url_;
};

TEST_F(LmsSite, LogInAndOutWithCookies) {
  Browser browser(url_);

  const Fetched anonymous = browser.get("/home");
  ASSERT_EQ(anonymous.error, "");
  EXPECT_EQ(anonymous.status, 200);
  EXPECT_EQ(attribute(anonymous.body, "data-audience"), "anon");
  EXPECT_TRUE(contains(anonymous.body, login_button));
  EXPECT_FALSE(contains(anonymous.body, logout_button));
  EXPECT_EQ(attribute(anonymous.body, "data-user"), std::nullopt);
  EXPECT_TRUE(anonymous.set_cookies.empty());

  const Fetched login = browser.log_in("alice");
  ASSERT_EQ(login.error, "");
  EXPECT_EQ(login.status, 303);
  EXPECT_EQ(login.location, "/home");
  ASSERT_EQ(login.set_cookies.size(), 1U);
  EXPECT_TRUE(login.set_cookies[0].starts_with("session="));
  EXPECT_TRUE(contains(login.set_cookies[0], "; Path=/"));
  EXPECT_TRUE(contains(login.set_cookies[0], "; HttpOnly"));
  EXPECT_TRUE(contains(login.set_cookies[0], "; SameSite=Lax"));
  EXPECT_EQ(browser.session().size(), 32U) << "a 128-bit id as hex";

  for (int visit = 0; visit < 6; ++visit) {
    SCOPED_TRACE(fmt::format("signed-in visit {}", visit));
    const Fetched page = browser.get("/home");
    ASSERT_EQ(page.error, "");
    EXPECT_EQ(page.status, 200);
    EXPECT_EQ(attribute(page.body, "data-audience"), "auth");
    EXPECT_EQ(attribute(page.body, "data-user"), "alice");
    EXPECT_TRUE(contains(page.body, logout_button));
    EXPECT_FALSE(contains(page.body, login_button));
    EXPECT_TRUE(page.set_cookies.empty()) << "cached routes never set cookies";
    if (visit > 0) {
      EXPECT_TRUE(is_hit(page.cache_status)) << page.cache_status;
    }
  }

  const Fetched logout = browser.log_out();
  ASSERT_EQ(logout.error, "");
  EXPECT_EQ(logout.status, 303);
  EXPECT_EQ(logout.location, "/home");
  ASSERT_EQ(logout.set_cookies.size(), 1U);
  EXPECT_TRUE(contains(logout.set_cookies[0], "Max-Age=0"));
  EXPECT_EQ(browser.session(), "");

  for (int visit = 0; visit < 6; ++visit) {
    SCOPED_TRACE(fmt::format("visit {} after logout", visit));
    const Fetched page = browser.get("/home");
    ASSERT_EQ(page.error, "");
    EXPECT_EQ(attribute(page.body, "data-audience"), "anon");
    EXPECT_EQ(attribute(page.body, "data-user"), std::nullopt);
    EXPECT_TRUE(contains(page.body, login_button));
    EXPECT_FALSE(contains(page.body, logout_button));
    EXPECT_TRUE(is_hit(page.cache_status)) << page.cache_status;
  }

  // One render per audience served all 13 visits.
  EXPECT_EQ(stats_counter(stats(), "renders", "home"), 2);
}

TEST_F(LmsSite, LoggedOutSessionIdIsAnonymous) {
  Browser browser(url_);
  ASSERT_EQ(browser.log_in("alice").status, 303);
  const std::string old_session = browser.session();
  ASSERT_EQ(browser.log_out().status, 303);

  browser.set_session(old_session);
  const Fetched page = browser.get("/home");
  EXPECT_EQ(attribute(page.body, "data-audience"), "anon");
  EXPECT_FALSE(contains(page.body, "alice"));

  browser.set_session("00000000000000000000000000000000");
  EXPECT_EQ(attribute(browser.get("/home").body, "data-audience"), "anon");
}

TEST_F(LmsSite, InvalidUserNameIsRejected) {
  const std::vector<std::string> names{"", "has space", "<script>", std::string(33, 'a')};
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    Browser browser(url_);
    const Fetched login = browser.log_in(name);
    EXPECT_EQ(login.status, 400);
    EXPECT_TRUE(login.set_cookies.empty());
    EXPECT_FALSE(contains(login.body, "<script>"));
  }
}

TEST_F(LmsSite, TwoAudiencesConcurrently) {
  constexpr int requests = 1000;
  Browser signed_in(url_);
  ASSERT_EQ(signed_in.log_in("alice").status, 303);
  Browser anonymous(url_);

  std::latch start(2);
  BrowseTally signed_in_tally;
  BrowseTally anonymous_tally;
  {
    std::jthread signed_in_thread([&] {
      signed_in_tally =
          browse(signed_in, shared_targets, requests, "auth", "alice", "", start);
    });
    std::jthread anonymous_thread([&] {
      anonymous_tally =
          browse(anonymous, shared_targets, requests, "anon", std::nullopt, "alice", start);
    });
  }

  EXPECT_EQ(signed_in_tally.errors, 0);
  EXPECT_EQ(anonymous_tally.errors, 0);
  EXPECT_EQ(signed_in_tally.bad_status, 0);
  EXPECT_EQ(anonymous_tally.bad_status, 0);
  EXPECT_EQ(signed_in_tally.wrong_audience + anonymous_tally.wrong_audience, 0);
  EXPECT_EQ(signed_in_tally.wrong_user, 0);
  EXPECT_EQ(anonymous_tally.wrong_user, 0);
  EXPECT_EQ(anonymous_tally.foreign_name, 0);
  EXPECT_GT(signed_in_tally.hits, 0);
  EXPECT_GT(anonymous_tally.hits, 0);
}

TEST_F(LmsSite, TwoUsersSeeOnlyTheirOwnName) {
  constexpr int requests = 500;
  std::vector<std::string_view> targets(shared_targets.begin(), shared_targets.end());
  targets.push_back("/dashboard");

  Browser alice(url_);
  ASSERT_EQ(alice.log_in("alice").status, 303);
  Browser bob(url_);
  ASSERT_EQ(bob.log_in("bob").status, 303);

  std::latch start(2);
  BrowseTally alice_tally;
  BrowseTally bob_tally;
  {
    std::jthread alice_thread(
        [&] { alice_tally = browse(alice, targets, requests, "auth", "alice", "bob", start); });
    std::jthread bob_thread(
        [&] { bob_tally = browse(bob, targets, requests, "auth", "bob", "alice", start); });
  }

  EXPECT_EQ(alice_tally.errors, 0);
  EXPECT_EQ(bob_tally.errors, 0);
  EXPECT_EQ(alice_tally.wrong_audience, 0);
  EXPECT_EQ(bob_tally.wrong_audience, 0);
  EXPECT_EQ(alice_tally.wrong_user, 0);
  EXPECT_EQ(bob_tally.wrong_user, 0);
  EXPECT_EQ(alice_tally.foreign_name, 0) << "alice was served a page naming bob";
  EXPECT_EQ(bob_tally.foreign_name, 0) << "bob was served a page naming alice";
  EXPECT_GT(alice_tally.hits, 0);
  EXPECT_GT(bob_tally.hits, 0);
}

// Each target is a different request, so each must get its own stored page.
// path and query are what the page must show, HTML-escaped.
struct ContentCase {
  std::string_view target;
  std::string_view path;
  std::string_view query;
};

constexpr std::array<ContentCase, 16> content_cases{{
    {"/page/a", "/page/a", ""},
    {"/page/a/anon", "/page/a/anon", ""},
    {"/page/a/auth", "/page/a/auth", ""},
    {"/page/anon", "/page/anon", ""},
    {"/page/auth", "/page/auth", ""},
    {"/page/a/b", "/page/a/b", ""},
    {"/page/a%2Fb", "/page/a%2Fb", ""},
    {"/page/a%2Fb/anon", "/page/a%2Fb/anon", ""},
    {"/page/x?y", "/page/x", "y"},
    {"/page/x%3Fy", "/page/x%3Fy", ""},
    {"/page/x%3Fy?z", "/page/x%3Fy", "z"},
    {"/page/a?b=/", "/page/a", "b=/"},
    {"/page/a?b=%2F", "/page/a", "b=%2F"},
    {"/page/a?anon", "/page/a", "anon"},
    {"/page/a?auth", "/page/a", "auth"},
    {"/page/a?x=1&y=%3F", "/page/a", "x=1&amp;y=%3F"},
}};

TEST_F(LmsSite, ContentPagesNeverShareKeys) {
  Browser anonymous(url_);
  Browser signed_in(url_);
  ASSERT_EQ(signed_in.log_in("alice").status, 303);

  for (const auto& [browser, audience] :
       {std::pair{&anonymous, "anon"}, std::pair{&signed_in, "auth"}}) {
    for (const ContentCase& content : content_cases) {
      for (int fetch = 0; fetch < 2; ++fetch) {
        SCOPED_TRACE(fmt::format("{} as {}, fetch {}", content.target, audience, fetch));
        const Fetched page = browser->get(std::string(content.target));
        ASSERT_EQ(page.error, "");
        EXPECT_EQ(page.status, 200);
        EXPECT_EQ(attribute(page.body, "data-audience"), audience);
        EXPECT_EQ(element_text(page.body, "request-path"), content.path);
        EXPECT_EQ(element_text(page.body, "request-query"), content.query);
        EXPECT_EQ(is_hit(page.cache_status), fetch == 1) << page.cache_status;
      }
    }
  }
}

TEST_F(LmsSite, DashboardIsCachedPerUser) {
  Browser alice(url_);
  ASSERT_EQ(alice.log_in("alice").status, 303);
  Browser bob(url_);
  ASSERT_EQ(bob.log_in("bob").status, 303);
  Browser anonymous(url_);

  for (int fetch = 0; fetch < 2; ++fetch) {
    SCOPED_TRACE(fmt::format("fetch {}", fetch));
    const Fetched alice_page = alice.get("/dashboard");
    const Fetched bob_page = bob.get("/dashboard");
    const Fetched anonymous_page = anonymous.get("/dashboard");

    EXPECT_TRUE(contains(alice_page.body, "Your courses, <span class=\"owner\">alice</span>"));
    EXPECT_FALSE(contains(alice_page.body, "bob"));
    EXPECT_EQ(attribute(alice_page.body, "data-user"), "alice");

    EXPECT_TRUE(contains(bob_page.body, "Your courses, <span class=\"owner\">bob</span>"));
    EXPECT_FALSE(contains(bob_page.body, "alice"));
    EXPECT_EQ(attribute(bob_page.body, "data-user"), "bob");

    EXPECT_EQ(attribute(anonymous_page.body, "data-audience"), "anon");
    EXPECT_TRUE(contains(anonymous_page.body, "Log in to see your courses"));
    EXPECT_FALSE(contains(anonymous_page.body, "Your courses"));

    for (const Fetched* page : {&alice_page, &bob_page, &anonymous_page}) {
      EXPECT_EQ(is_hit(page->cache_status), fetch == 1) << page->cache_status;
    }
  }

  EXPECT_EQ(stats_counter(stats(), "renders", "dashboard"), 3);
}

TEST_F(LmsSite, UnknownCourseIsNotStored) {
  Browser browser(url_);
  for (int fetch = 0; fetch < 2; ++fetch) {
    SCOPED_TRACE(fmt::format("fetch {}", fetch));
    const Fetched page = browser.get("/course/99");
    EXPECT_EQ(page.status, 404);
    EXPECT_EQ(page.cache_status, "viewcache; fwd=miss; fwd-status=404; detail=status");
  }
  EXPECT_EQ(stats_counter(stats(), "renders", "course"), 2);
}

TEST_F(LmsSite, MetricsCountHitsPerAudience) {
  Browser anonymous(url_);
  for (int fetch = 0; fetch < 3; ++fetch) {
    ASSERT_EQ(anonymous.get("/home").status, 200);
  }
  Browser alice(url_);
  ASSERT_EQ(alice.log_in("alice").status, 303);
  for (int fetch = 0; fetch < 2; ++fetch) {
    ASSERT_EQ(alice.get("/home").status, 200);
  }
  Browser bob(url_);
  ASSERT_EQ(bob.log_in("bob").status, 303);
  EXPECT_TRUE(is_hit(bob.get("/home").cache_status));
  ASSERT_EQ(bob.get("/course/99").status, 404);

  httplib::Client client(url_);
  for (int fetch = 0; fetch < 2; ++fetch) {
    SCOPED_TRACE(fmt::format("fetch {}", fetch));
    const httplib::Result metrics = client.Get("/metrics");
    ASSERT_TRUE(metrics) << httplib::to_string(metrics.error());
    EXPECT_EQ(metrics->status, 200);
    EXPECT_EQ(metrics->get_header_value("Content-Type"), "text/plain; version=0.0.4");
    EXPECT_EQ(metrics->get_header_value("Cache-Control"), "no-store");
    EXPECT_FALSE(metrics->has_header("Cache-Status")) << "/metrics must not be cached";

    const std::string& text = metrics->body;
    EXPECT_EQ(metric_value(text, R"(viewcache_hits_total{route="home",audience="anon"})"), 2)
        << text;
    EXPECT_EQ(metric_value(text, R"(viewcache_hits_total{route="home",audience="auth"})"), 2)
        << text;
    EXPECT_EQ(metric_value(text, R"(viewcache_misses_total{route="home",audience="anon"})"), 1);
    EXPECT_EQ(metric_value(text, R"(viewcache_misses_total{route="home",audience="auth"})"), 1);
    EXPECT_EQ(metric_value(text, R"(viewcache_refused_total{route="course",audience="auth",)"
                                 R"(reason="status"})"),
              1);
    EXPECT_EQ(metric_value(text, "viewcache_store_entries"), 2);
  }

  // One log line per store and refusal; hits are not logged.
  std::ifstream log_file(log_path_);
  std::stringstream log;
  log << log_file.rdbuf();
  EXPECT_TRUE(contains(log.str(), R"(viewcache-lms: cache store route="home" audience=anon)"))
      << log.str();
  EXPECT_TRUE(contains(log.str(), R"(viewcache-lms: cache store route="home" audience=auth)"));
  EXPECT_TRUE(contains(log.str(), R"(viewcache-lms: cache refusal route="course" audience=auth)"));
}

TEST_F(LmsSite, LoginWithoutUserFieldIsRejected) {
  httplib::Client client(url_);
  const httplib::Result result = client.Post("/login", "name=alice", "application/x-www-form-urlencoded");
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 400);
  EXPECT_TRUE(contains(result->body, "Missing user name")) << result->body;
  EXPECT_FALSE(result->has_header("Set-Cookie"));
}

TEST_F(LmsSite, LoginNameComesFromFormOnly) {
  Browser browser(url_);
  httplib::Client client(url_);
  client.set_follow_location(false);
  const httplib::Result result =
      client.Post("/login?user=mallory", "user=bob", "application/x-www-form-urlencoded");
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  ASSERT_EQ(result->status, 303);

  const std::string cookie = result->get_header_value("Set-Cookie");
  const std::size_t start = cookie.find("session=") + 8;
  browser.set_session(cookie.substr(start, cookie.find(';') - start));
  const Fetched page = browser.get("/home");
  EXPECT_EQ(attribute(page.body, "data-user"), "bob");
  EXPECT_FALSE(contains(page.body, "mallory"));
}

// Control bytes in a path are still a path: the content route serves them,
// and encoded CR and LF never reach a header.
TEST_F(LmsSite, ContentPathMayHoldNewline) {
  Browser browser(url_);
  for (const std::string target : {"/page/a%0Ab", "/page/a%0D%0Ab"}) {
    SCOPED_TRACE(target);
    const Fetched first = browser.get(target);
    EXPECT_EQ(first.status, 200);
    EXPECT_TRUE(contains(first.body, target.substr(5))) << first.body;
    EXPECT_FALSE(is_hit(first.cache_status)) << first.cache_status;
    EXPECT_TRUE(is_hit(browser.get(target).cache_status));
  }
}

TEST_F(LmsSite, SecondServerCannotTakeBusyPort) {
  const std::string port = url_.substr(url_.rfind(':') + 1);
  LmsProcess second(VIEWCACHE_LMS_PATH, {.flags = {"--port", port}, .stderr_path = ""});

  const std::string error = second.read_stderr(10s);
  const std::optional<int> status = second.wait_for_exit(10s);
  ASSERT_TRUE(status.has_value()) << "a second viewcache-lms is serving port " << port;
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 1);
  EXPECT_TRUE(contains(error, "failed to listen")) << error;
}

// With --demo-mis-keyed, /dashboard names its reader under the key all
// signed-in users share. The leak guard audits every hit, so the second user
// gets their own page and the route stops being cached.
TEST(LmsLeakGuard, CatchesMisKeyedDashboard) {
  std::signal(SIGPIPE, SIG_IGN);
  LmsProcess server(VIEWCACHE_LMS_PATH,
                    {.flags = {"--port", "0", "--demo-mis-keyed"}, .stderr_path = ""});
  const std::optional<std::string> url = server.read_first_line(10s);
  ASSERT_TRUE(url.has_value());

  Browser alice(*url);
  Browser bob(*url);
  ASSERT_EQ(alice.log_in("alice").status, 303);
  ASSERT_EQ(bob.log_in("bob").status, 303);

  const Fetched alice_first = alice.get("/dashboard");
  EXPECT_TRUE(contains(alice_first.body, "alice"));
  EXPECT_EQ(alice_first.cache_status, "viewcache; fwd=miss; stored");

  for (int fetch = 0; fetch < 3; ++fetch) {
    SCOPED_TRACE(fmt::format("fetch {}", fetch));
    const Fetched bob_page = bob.get("/dashboard");
    const Fetched alice_page = alice.get("/dashboard");
    EXPECT_FALSE(contains(bob_page.body, "alice")) << bob_page.body;
    EXPECT_TRUE(contains(bob_page.body, "bob"));
    EXPECT_FALSE(contains(alice_page.body, "bob")) << alice_page.body;
    EXPECT_TRUE(contains(bob_page.cache_status, "detail=leak-guard")) << bob_page.cache_status;
    EXPECT_TRUE(contains(alice_page.cache_status, "detail=leak-guard")) << alice_page.cache_status;
  }

  EXPECT_EQ(server.stop(10s), 0);
  // The event hook logs the leak once, when the guard finds it.
  EXPECT_TRUE(contains(server.read_stderr(1s), "cache leak route=\"dashboard\""));
}

// With a slow render, bob's request waits for alice's render of the shared
// dashboard key. The leak guard audits the page he would receive, so he still
// sees only his own name.
TEST(LmsLeakGuard, CatchesMisKeyedDashboardForWaiters) {
  std::signal(SIGPIPE, SIG_IGN);
  LmsProcess server(VIEWCACHE_LMS_PATH,
                    {.flags = {"--port", "0", "--demo-mis-keyed", "--render-delay-ms", "300"},
                     .stderr_path = "/dev/null"});
  const std::optional<std::string> url = server.read_first_line(10s);
  ASSERT_TRUE(url.has_value());

  constexpr std::array<std::string_view, 4> users{"alice", "bob", "carol", "dave"};
  std::array<Fetched, users.size()> pages;
  std::latch start(users.size());
  std::vector<std::thread> clients;
  for (std::size_t i = 0; i < users.size(); ++i) {
    clients.emplace_back([&, i] {
      Browser browser(*url);
      browser.log_in(std::string{users[i]});
      start.arrive_and_wait();
      pages[i] = browser.get("/dashboard");
    });
  }
  for (std::thread& client : clients) {
    client.join();
  }

  for (std::size_t i = 0; i < users.size(); ++i) {
    SCOPED_TRACE(std::string{users[i]} + " " + pages[i].cache_status);
    EXPECT_EQ(pages[i].status, 200) << pages[i].error;
    for (std::size_t other = 0; other < users.size(); ++other) {
      EXPECT_EQ(contains(pages[i].body, users[other]), other == i) << users[other];
    }
  }
}

constexpr std::string_view original_title = "Caching for web developers";

// The cached pages that list course 1, and one that does not.
constexpr std::array<std::string_view, 3> course_1_pages{"/course/1", "/home",
                                                         "/course/explore?page=1"};
constexpr std::string_view unrelated_page = "/course/explore?page=2";

TEST_F(LmsSite, AdminEditRefreshesEveryVariant) {
  Browser anonymous(url_);
  Browser alice(url_);
  ASSERT_EQ(alice.log_in("alice").status, 303);
  Browser admin(url_);
  ASSERT_EQ(admin.log_in("admin").status, 303);

  // Store the anonymous and the signed-in variant of every page.
  for (Browser* browser : {&anonymous, &alice}) {
    for (const std::string_view target : course_1_pages) {
      const Fetched page = browser->get(std::string(target));
      ASSERT_EQ(page.status, 200) << target;
      ASSERT_TRUE(contains(page.body, original_title)) << target;
    }
    ASSERT_EQ(browser->get(std::string(unrelated_page)).status, 200);
  }
  ASSERT_TRUE(is_hit(admin.get("/course/1").cache_status));

  const Fetched edit = admin.edit_course("1", "Caching, revised");
  ASSERT_EQ(edit.status, 303) << edit.body;
  EXPECT_EQ(edit.location, "/course/1");

  // alice and admin share the signed-in variant, so alice's fetch renders it
  // and admin's is a hit on the refreshed page.
  for (const std::string_view target : course_1_pages) {
    SCOPED_TRACE(target);
    const Fetched anonymous_page = anonymous.get(std::string(target));
    const Fetched alice_page = alice.get(std::string(target));
    const Fetched admin_page = admin.get(std::string(target));

    EXPECT_EQ(anonymous_page.cache_status, "viewcache; fwd=miss; stored");
    EXPECT_EQ(alice_page.cache_status, "viewcache; fwd=miss; stored");
    EXPECT_TRUE(is_hit(admin_page.cache_status)) << admin_page.cache_status;
    for (const Fetched* page : {&anonymous_page, &alice_page, &admin_page}) {
      EXPECT_TRUE(contains(page->body, "Caching, revised")) << page->body;
      EXPECT_FALSE(contains(page->body, original_title)) << page->body;
    }
  }
  EXPECT_EQ(attribute(admin.get("/course/1").body, "data-user"), "admin");

  // A page that does not show course 1 stays cached.
  EXPECT_TRUE(is_hit(anonymous.get(std::string(unrelated_page)).cache_status));
  EXPECT_EQ(stats_counter(stats(), "store", "invalidated"), 6);
}

TEST_F(LmsSite, NonAdminCannotEditCourse) {
  Browser anonymous(url_);
  Browser alice(url_);
  ASSERT_EQ(alice.log_in("alice").status, 303);
  ASSERT_EQ(anonymous.get("/course/1").status, 200);

  for (Browser* browser : {&anonymous, &alice}) {
    const Fetched edit = browser->edit_course("1", "Hijacked");
    EXPECT_EQ(edit.status, 403);
    EXPECT_TRUE(edit.location.empty()) << edit.location;
  }

  const Fetched page = anonymous.get("/course/1");
  EXPECT_TRUE(is_hit(page.cache_status)) << page.cache_status;
  EXPECT_TRUE(contains(page.body, original_title));
  EXPECT_FALSE(contains(alice.get("/course/1").body, "Hijacked"));
  EXPECT_EQ(stats_counter(stats(), "store", "invalidated"), 0);
}

TEST_F(LmsSite, EditRejectsMissingTitleAndUnknownCourse) {
  Browser admin(url_);
  ASSERT_EQ(admin.log_in("admin").status, 303);
  EXPECT_EQ(admin.edit_course("1", "").status, 400);
  EXPECT_EQ(admin.edit_course("1", "two\nlines").status, 400);
  EXPECT_EQ(admin.edit_course("1", "tab\there").status, 400);
  EXPECT_EQ(admin.edit_course("1", std::string(201, 'x')).status, 400);
  EXPECT_EQ(admin.edit_course("99", "Ghost course").status, 404);
  EXPECT_EQ(admin.get("/course/99").status, 404);
  EXPECT_TRUE(contains(admin.get("/course/1").body, original_title));
}

// With a slow render, concurrent misses on one page wait for a single render
// (single-flight) instead of each rendering it.
TEST(LmsRenderDelay, ConcurrentMissesRenderOnce) {
  LmsProcess process(VIEWCACHE_LMS_PATH,
                     {.flags = {"--port", "0", "--render-delay-ms", "500"},
                      .stderr_path = "/dev/null"});
  const std::optional<std::string> url = process.read_first_line(10s);
  ASSERT_TRUE(url.has_value());

  constexpr int client_count = 4;
  std::latch start(client_count);
  std::array<Fetched, client_count> pages;
  std::vector<std::thread> clients;
  for (std::size_t i = 0; i < pages.size(); ++i) {
    clients.emplace_back([&, i] {
      Browser browser(*url);
      start.arrive_and_wait();
      pages[i] = browser.get("/course/2");
    });
  }
  for (std::thread& client : clients) {
    client.join();
  }

  int collapsed = 0;
  for (const Fetched& page : pages) {
    EXPECT_EQ(page.status, 200) << page.error;
    collapsed += page.cache_status == "viewcache; fwd=miss; collapsed" ? 1 : 0;
  }
  EXPECT_EQ(collapsed, client_count - 1);
  Browser browser(*url);
  EXPECT_EQ(stats_counter(browser.get("/stats").body, "renders", "course"), 1);
}

TEST(LmsFlags, InvalidValueExitsWithStatus2) {
  const std::vector<std::vector<std::string>> cases{
      {"--port", "abc"}, {"--port", "70000"}, {"--ttl", "-1"}, {"--frobnicate"},
      {"--render-delay-ms", "abc"}, {"--render-delay-ms", "-5"}, {"--render-delay-ms", "1.5"}};
  for (const std::vector<std::string>& flags : cases) {
    SCOPED_TRACE(fmt::format("{}", fmt::join(flags, " ")));
    LmsProcess process(VIEWCACHE_LMS_PATH, {.flags = flags, .stderr_path = ""});

    const std::string error = process.read_stderr(10s);
    const std::optional<int> status = process.wait_for_exit(10s);
    ASSERT_TRUE(status.has_value()) << "viewcache-lms kept running";
    EXPECT_TRUE(WIFEXITED(*status));
    EXPECT_EQ(WEXITSTATUS(*status), 2);
    EXPECT_TRUE(contains(error, flags.back())) << error;
    EXPECT_EQ(process.read_first_line(1s), std::nullopt) << "no URL on a usage error";
  }
}

TEST(LmsSignals, SigintStopsServerCleanly) {
  LmsProcess process(VIEWCACHE_LMS_PATH, {.flags = {"--port", "0"}, .stderr_path = "/dev/null"});
  ASSERT_TRUE(process.read_first_line(10s).has_value());

  process.send_signal(SIGINT);
  const std::optional<int> status = process.wait_for_exit(10s);
  ASSERT_TRUE(status.has_value()) << "viewcache-lms ignored SIGINT";
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 0);
}

}  // namespace
