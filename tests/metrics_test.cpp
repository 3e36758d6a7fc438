// Observability of PageCache: counters per route and audience, the
// Prometheus text output parsed back, the event hook, and warming.

#include <gtest/gtest.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "viewcache/memory_store.hpp"
#include "viewcache/metrics.hpp"
#include "viewcache/page_cache.hpp"

namespace viewcache {
namespace {

using namespace std::chrono_literals;

// --- A parser for the Prometheus text format, as much as the tests need ---

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  std::uint64_t value = 0;
};

struct Exposition {
  std::vector<Sample> samples;
  std::map<std::string, std::string> types;  // metric name to TYPE
  std::set<std::string> helped;              // metric names with a HELP line
  std::string error;                         // empty when every line parsed
};

// Reads a label value after its opening quote, undoing the format's escapes.
// Returns false on an unknown escape or a missing closing quote.
bool read_label_value(std::string_view& rest, std::string& value) {
  while (!rest.empty()) {
    const char c = rest.front();
    rest.remove_prefix(1);
    if (c == '"') {
      return true;
    }
    if (c != '\\') {
      value += c;
      continue;
    }
    if (rest.empty()) {
      return false;
    }
    const char escaped = rest.front();
    rest.remove_prefix(1);
    if (escaped == '\\') {
      value += '\\';
    } else if (escaped == '"') {
      value += '"';
    } else if (escaped == 'n') {
      value += '\n';
    } else {
      return false;
    }
  }
  return false;
}

std::optional<Sample> parse_sample(std::string_view line) {
  Sample sample;
  const std::size_t name_end = line.find_first_of("{ ");
  if (name_end == std::string_view::npos) {
    return std::nullopt;
  }
  sample.name = line.substr(0, name_end);
  std::string_view rest = line.substr(name_end);

  if (rest.front() == '{') {
    rest.remove_prefix(1);
    while (!rest.empty() && rest.front() != '}') {
      const std::size_t equals = rest.find("=\"");
      if (equals == std::string_view::npos) {
        return std::nullopt;
      }
      const std::string label(rest.substr(0, equals));
      rest.remove_prefix(equals + 2);
      std::string value;
      if (!read_label_value(rest, value) || sample.labels.contains(label)) {
        return std::nullopt;
      }
      sample.labels[label] = value;
      if (!rest.empty() && rest.front() == ',') {
        rest.remove_prefix(1);
      }
    }
    if (rest.empty()) {
      return std::nullopt;
    }
    rest.remove_prefix(1);
  }

  if (rest.empty() || rest.front() != ' ') {
    return std::nullopt;
  }
  rest.remove_prefix(1);
  const auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), sample.value);
  if (error != std::errc{} || end != rest.data() + rest.size()) {
    return std::nullopt;
  }
  return sample;
}

Exposition parse_exposition(std::string_view text) {
  Exposition exposition;
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    if (newline == std::string_view::npos) {
      exposition.error = "the last line does not end in a line feed";
      return exposition;
    }
    const std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline + 1);

    if (line.starts_with("# HELP ")) {
      const std::string_view rest = line.substr(7);
      exposition.helped.insert(std::string(rest.substr(0, rest.find(' '))));
      continue;
    }
    if (line.starts_with("# TYPE ")) {
      const std::string_view rest = line.substr(7);
      const std::size_t space = rest.find(' ');
      exposition.types[std::string(rest.substr(0, space))] = rest.substr(space + 1);
      continue;
    }

    std::optional<Sample> sample = parse_sample(line);
    if (!sample) {
      exposition.error = "invalid sample line: " + std::string(line);
      return exposition;
    }
    if (!exposition.types.contains(sample->name) || !exposition.helped.contains(sample->name)) {
      exposition.error = "sample before its HELP and TYPE lines: " + std::string(line);
      return exposition;
    }
    exposition.samples.push_back(std::move(*sample));
  }
  return exposition;
}

// Returns the value of the sample with name and exactly labels, or
// std::nullopt when there is none.
std::optional<std::uint64_t> find_value(const Exposition& exposition, std::string_view name,
                                        const std::map<std::string, std::string>& labels) {
  for (const Sample& sample : exposition.samples) {
    if (sample.name == name && sample.labels == labels) {
      return sample.value;
    }
  }
  return std::nullopt;
}

// --- Fixtures ---

Page page_with_status(int status) { return Page{.status = status, .body = "page"}; }

Request anonymous(std::string_view path, std::string_view method = "GET") {
  return {.method = method, .path = path, .viewer = Viewer::anonymous()};
}

Request signed_in(std::string_view path, std::string_view method = "GET") {
  return {.method = method, .path = path, .viewer = Viewer::signed_in("alice")};
}

// An event with its views copied, so it outlives the hook call.
struct RecordedEvent {
  CacheEventKind kind;
  std::string route;
  Audience audience;
  std::string key;
  std::string method;
  std::size_t bytes;
  StoreDecision decision;
  int status;
  KeyStatus key_status;
  std::string message;
};

// Records every event, from any thread.
class EventLog {
 public:
  std::function<void(const CacheEvent&)> hook() {
    return [this](const CacheEvent& event) {
      const std::lock_guard lock(mutex_);
      events_.push_back({event.kind, std::string(event.route), event.audience,
                         std::string(event.key), std::string(event.method), event.bytes,
                         event.decision, event.status, event.key_status,
                         std::string(event.message)});
    };
  }

  std::vector<RecordedEvent> events() const {
    const std::lock_guard lock(mutex_);
    return events_;
  }

  std::vector<RecordedEvent> of_kind(CacheEventKind kind) const {
    std::vector<RecordedEvent> found;
    for (const RecordedEvent& event : events()) {
      if (event.kind == kind) {
        found.push_back(event);
      }
    }
    return found;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<RecordedEvent> events_;
};

class MetricsTest : public ::testing::Test {
 protected:
  CacheResult serve(const Request& request, std::string_view route, int status = 200) {
    return cache_.cached(request, {.route = route}, [&] { return page_with_status(status); });
  }

  // A scripted mix of requests, with the counters it must produce listed in
  // the tests that use it.
  void serve_script() {
    serve(anonymous("/home"), "home");  // miss, stored
    serve(anonymous("/home"), "home");  // hit
    serve(anonymous("/home"), "home");  // hit
    serve(signed_in("/home"), "home");  // miss, stored
    serve(signed_in("/home"), "home");  // hit
    serve(anonymous("/course/7"), "course", 404);         // miss, refused: status
    serve(signed_in("/course/7", "POST"), "course");      // bypass: method
    serve(anonymous("/raw?question"), "");                // bypass: key (raw '?')
    serve(anonymous("/odd"), "odd \"name\"\\with\nbreak");  // miss, stored
  }

  EventLog log_;
  std::shared_ptr<MemoryStore> store_ = std::make_shared<MemoryStore>();
  PageCache cache_{store_, PageCache::Options{.on_event = log_.hook()}};
};

// --- Counters ---

TEST_F(MetricsTest, CountsPerRouteAndAudience) {
  serve_script();
  const MetricsSnapshot snapshot = metrics_snapshot(cache_);

  ASSERT_EQ(snapshot.routes.size(), 4U);
  const RouteStats& home = snapshot.routes[0];
  EXPECT_EQ(home.route, "home");
  EXPECT_EQ(home.of(Audience::anonymous).hits, 2U);
  EXPECT_EQ(home.of(Audience::anonymous).misses, 1U);
  EXPECT_EQ(home.of(Audience::anonymous).stored, 1U);
  EXPECT_EQ(home.of(Audience::signed_in).hits, 1U);
  EXPECT_EQ(home.of(Audience::signed_in).misses, 1U);
  EXPECT_EQ(home.of(Audience::signed_in).stored, 1U);

  const RouteStats& course = snapshot.routes[1];
  EXPECT_EQ(course.route, "course");
  EXPECT_EQ(course.of(Audience::anonymous).misses, 1U);
  EXPECT_EQ(course.of(Audience::anonymous).refused_for(StoreDecision::refuse_status), 1U);
  EXPECT_EQ(course.of(Audience::anonymous).stored, 0U);
  EXPECT_EQ(course.of(Audience::signed_in).bypassed_method, 1U);
  EXPECT_EQ(course.of(Audience::signed_in).misses, 0U);

  const RouteStats& fallback = snapshot.routes[2];
  EXPECT_EQ(fallback.route, "default");
  EXPECT_EQ(fallback.of(Audience::anonymous).bypassed_key, 1U);

  EXPECT_EQ(snapshot.routes[3].route, "odd \"name\"\\with\nbreak");
  EXPECT_EQ(snapshot.routes[3].of(Audience::anonymous).stored, 1U);
}

TEST_F(MetricsTest, TotalsStillMatchStats) {
  serve_script();
  const PageCacheStats stats = cache_.stats();
  EXPECT_EQ(stats.hits, 3U);
  EXPECT_EQ(stats.misses, 4U);
  EXPECT_EQ(stats.stored, 3U);
  EXPECT_EQ(stats.refused_for(StoreDecision::refuse_status), 1U);
  EXPECT_EQ(metrics_snapshot(cache_).totals.hits, 3U);
}

TEST_F(MetricsTest, SnapshotHasMemoryStoreCounters) {
  serve_script();
  const MetricsSnapshot snapshot = metrics_snapshot(cache_);
  ASSERT_TRUE(snapshot.store.has_value());
  EXPECT_EQ(snapshot.store->entries, 3U);
  EXPECT_GT(snapshot.store->bytes, 0U);
}

TEST_F(MetricsTest, RoutesPastLimitShareOther) {
  for (std::size_t i = 0; i < max_routes + 2; ++i) {
    const std::string route = "route" + std::to_string(i);
    serve(anonymous("/r/" + std::to_string(i)), route);
  }
  const MetricsSnapshot snapshot = metrics_snapshot(cache_);
  ASSERT_EQ(snapshot.routes.size(), max_routes + 1);
  EXPECT_EQ(snapshot.routes.back().route, overflow_route_name);
  EXPECT_EQ(snapshot.routes.back().of(Audience::anonymous).misses, 2U);
}

// A Store that is not a MemoryStore: it stores nothing and has no counters.
class NullStore final : public Store {
 public:
  Hit get(std::string_view) override { return {}; }
  bool put(std::string_view, std::shared_ptr<const Page>, std::chrono::milliseconds,
           const PutOptions&) override {
    return false;
  }
  bool erase(std::string_view) override { return false; }
  std::size_t erase_family(std::string_view) override { return 0; }
  std::size_t erase_tag(std::string_view) override { return 0; }
  void clear() override {}
};

TEST(Metrics, OtherStoreReportsNoStoreMetrics) {
  PageCache cache{std::make_shared<NullStore>()};
  cache.cached(anonymous("/home"), {.route = "home"}, [] { return Page{}; });

  const MetricsSnapshot snapshot = metrics_snapshot(cache);
  EXPECT_FALSE(snapshot.store.has_value());
  ASSERT_EQ(snapshot.routes.size(), 1U);
  EXPECT_EQ(snapshot.routes[0].of(Audience::anonymous).refused_for(StoreDecision::store_declined),
            1U);

  std::string text;
  write_prometheus(cache, text);
  EXPECT_EQ(text.find("viewcache_store_"), std::string::npos) << text;
}

// --- Prometheus text ---

TEST_F(MetricsTest, PrometheusOutputParsesBack) {
  serve_script();
  std::string text;
  write_prometheus(cache_, text);
  const Exposition exposition = parse_exposition(text);
  ASSERT_EQ(exposition.error, "") << text;

  using Labels = std::map<std::string, std::string>;
  const Labels home_anon{{"route", "home"}, {"audience", "anon"}};
  const Labels home_auth{{"route", "home"}, {"audience", "auth"}};
  EXPECT_EQ(find_value(exposition, "viewcache_hits_total", home_anon), 2U);
  EXPECT_EQ(find_value(exposition, "viewcache_hits_total", home_auth), 1U);
  EXPECT_EQ(find_value(exposition, "viewcache_misses_total", home_anon), 1U);
  EXPECT_EQ(find_value(exposition, "viewcache_stored_total", home_auth), 1U);
  EXPECT_EQ(find_value(exposition, "viewcache_stale_served_total", home_anon), 0U);
  EXPECT_EQ(find_value(exposition, "viewcache_collapsed_total", home_anon), 0U);

  EXPECT_EQ(find_value(exposition, "viewcache_refused_total",
                       {{"route", "course"}, {"audience", "anon"}, {"reason", "status"}}),
            1U);
  EXPECT_EQ(find_value(exposition, "viewcache_refused_total",
                       {{"route", "course"}, {"audience", "anon"}, {"reason", "set-cookie"}}),
            0U);
  EXPECT_EQ(find_value(exposition, "viewcache_bypassed_total",
                       {{"route", "course"}, {"audience", "auth"}, {"reason", "method"}}),
            1U);
  EXPECT_EQ(find_value(exposition, "viewcache_bypassed_total",
                       {{"route", "default"}, {"audience", "anon"}, {"reason", "key"}}),
            1U);

  // The label value contains a quote, a backslash and a line feed.
  EXPECT_EQ(find_value(exposition, "viewcache_stored_total",
                       {{"route", "odd \"name\"\\with\nbreak"}, {"audience", "anon"}}),
            1U);

  EXPECT_EQ(find_value(exposition, "viewcache_store_entries", {}), 3U);
  EXPECT_EQ(find_value(exposition, "viewcache_event_hook_errors_total", {}), 0U);
  EXPECT_EQ(find_value(exposition, "viewcache_store_evictions_total", {{"reason", "capacity"}}),
            0U);
}

TEST_F(MetricsTest, PrometheusNamesAndTypes) {
  serve_script();
  std::string text;
  write_prometheus(cache_, text);
  const Exposition exposition = parse_exposition(text);
  ASSERT_EQ(exposition.error, "") << text;

  for (const auto& [name, type] : exposition.types) {
    EXPECT_TRUE(name.starts_with("viewcache_")) << name;
    EXPECT_EQ(name.ends_with("_total"), type == "counter") << name << " is a " << type;
    EXPECT_TRUE(type == "counter" || type == "gauge") << name << " is a " << type;
  }

  // Every route and audience has a hits sample, zero included.
  std::size_t hit_samples = 0;
  for (const Sample& sample : exposition.samples) {
    hit_samples += sample.name == "viewcache_hits_total" ? 1U : 0U;
  }
  EXPECT_EQ(hit_samples, 4U * 2U);
}

TEST_F(MetricsTest, PrometheusAppendsToOutput) {
  std::string text = "# before\n";
  write_prometheus(cache_, text);
  EXPECT_TRUE(text.starts_with("# before\n# HELP viewcache_hits_total "));
}

// --- Event hook ---

TEST_F(MetricsTest, HookReportsStoreRefusalAndBypass) {
  serve_script();

  const std::vector<RecordedEvent> stores = log_.of_kind(CacheEventKind::store);
  ASSERT_EQ(stores.size(), 3U);
  EXPECT_EQ(stores[0].route, "home");
  EXPECT_EQ(stores[0].audience, Audience::anonymous);
  EXPECT_EQ(stores[0].key, "view//home/anon");
  EXPECT_EQ(stores[0].bytes, page_with_status(200).byte_size());
  EXPECT_EQ(stores[1].audience, Audience::signed_in);
  EXPECT_EQ(stores[1].key, "view//home/auth");

  const std::vector<RecordedEvent> refusals = log_.of_kind(CacheEventKind::refusal);
  ASSERT_EQ(refusals.size(), 1U);
  EXPECT_EQ(refusals[0].route, "course");
  EXPECT_EQ(refusals[0].decision, StoreDecision::refuse_status);
  EXPECT_EQ(refusals[0].status, 404);

  const std::vector<RecordedEvent> bypasses = log_.of_kind(CacheEventKind::bypass);
  ASSERT_EQ(bypasses.size(), 2U);
  EXPECT_EQ(bypasses[0].route, "course");
  EXPECT_EQ(bypasses[0].method, "POST");
  EXPECT_EQ(bypasses[0].key_status, KeyStatus::ok);
  EXPECT_EQ(bypasses[1].route, "default");
  EXPECT_EQ(bypasses[1].key_status, KeyStatus::invalid_path);

  // Hits are never reported.
  EXPECT_EQ(log_.events().size(), 6U);
}

TEST_F(MetricsTest, HookReportsRenderError) {
  EXPECT_THROW(cache_.cached(anonymous("/home"), {.route = "home"},
                             []() -> Page { throw std::runtime_error("database down"); }),
               std::runtime_error);

  const std::vector<RecordedEvent> errors = log_.of_kind(CacheEventKind::render_error);
  ASSERT_EQ(errors.size(), 1U);
  EXPECT_EQ(errors[0].route, "home");
  EXPECT_EQ(errors[0].key, "view//home/anon");
  EXPECT_EQ(errors[0].message, "database down");
  EXPECT_EQ(metrics_snapshot(cache_).routes[0].of(Audience::anonymous).render_errors, 1U);
}

TEST_F(MetricsTest, HookReportsUnknownException) {
  EXPECT_THROW(cache_.cached(anonymous("/home"), {}, []() -> Page { throw 42; }), int);
  const std::vector<RecordedEvent> errors = log_.of_kind(CacheEventKind::render_error);
  ASSERT_EQ(errors.size(), 1U);
  EXPECT_EQ(errors[0].message, "unknown exception");
}

TEST_F(MetricsTest, HookReportsWaitTimeout) {
  std::atomic<bool> first{true};
  const auto render = [&]() -> Page {
    if (first.exchange(false)) {
      // The leader finishes only after the waiter has given up on it.
      const auto deadline = std::chrono::steady_clock::now() + 10s;
      while (cache_.stats().wait_timeouts == 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
      }
    }
    return Page{.body = "home"};
  };
  const CacheOptions options{.route = "home", .wait_timeout = 20ms};
  std::thread leader([&] { cache_.cached(anonymous("/home"), options, render); });
  std::thread waiter([&] { cache_.cached(anonymous("/home"), options, render); });
  leader.join();
  waiter.join();

  const std::vector<RecordedEvent> timeouts = log_.of_kind(CacheEventKind::wait_timeout);
  ASSERT_EQ(timeouts.size(), 1U);
  EXPECT_EQ(timeouts[0].route, "home");
  EXPECT_EQ(timeouts[0].key, "view//home/anon");
  const std::vector<RecordedEvent> refusals = log_.of_kind(CacheEventKind::refusal);
  ASSERT_EQ(refusals.size(), 1U);
  EXPECT_EQ(refusals[0].decision, StoreDecision::wait_timed_out);
  EXPECT_EQ(metrics_snapshot(cache_).routes[0].of(Audience::anonymous).wait_timeouts, 1U);
}

TEST(Metrics, HookExceptionIsContained) {
  PageCache cache{std::make_shared<MemoryStore>(),
                  PageCache::Options{.on_event = [](const CacheEvent&) {
                    throw std::runtime_error("hook failed");
                  }}};

  const CacheResult stored =
      cache.cached(anonymous("/home"), {.route = "home"}, [] { return Page{.body = "home"}; });
  EXPECT_EQ(stored.outcome, CacheOutcome::miss_stored);
  EXPECT_TRUE(cache.cached(anonymous("/home"), {.route = "home"}, [] { return Page{}; }).hit());

  // The render's own exception still reaches the caller, not the hook's.
  EXPECT_THROW(cache.cached(anonymous("/other"), {},
                            []() -> Page { throw std::out_of_range("render failed"); }),
               std::out_of_range);

  EXPECT_EQ(metrics_snapshot(cache).event_hook_errors, 2U);
}

TEST(Metrics, ConstructorWithoutHookStillWorks) {
  PageCache cache{std::make_shared<MemoryStore>(), PageCache::Options{}};
  EXPECT_THROW((PageCache{nullptr, PageCache::Options{}}), std::invalid_argument);
  EXPECT_EQ(cache.cached(anonymous("/home"), {}, [] { return Page{}; }).outcome,
            CacheOutcome::miss_stored);
  EXPECT_EQ(metrics_snapshot(cache).routes.at(0).route, "default");
}

// --- Warming ---

TEST_F(MetricsTest, WarmStoresGoodEntriesAndReportsBadOnes) {
  int renders = 0;
  const std::vector<WarmRequest> requests{
      {.request = anonymous("/home"), .options = {.route = "home"},
       .render = [&] { ++renders; return Page{.body = "anon home"}; }},
      {.request = signed_in("/home"), .options = {.route = "home"},
       .render = [&] { ++renders; return Page{.body = "auth home"}; }},
      {.request = anonymous("/broken"), .options = {.route = "broken"},
       .render = []() -> Page { throw std::runtime_error("template missing"); }},
      {.request = anonymous("/empty"), .options = {.route = "empty"}, .render = nullptr},
      {.request = anonymous("/gone"), .options = {.route = "gone"},
       .render = [] { return page_with_status(404); }},
      {.request = anonymous("/course/1"), .options = {.route = "course"},
       .render = [&] { ++renders; return Page{.body = "course"}; }},
  };

  EXPECT_EQ(cache_.warm(requests), 3U);
  EXPECT_EQ(renders, 3);

  const MetricsSnapshot snapshot = metrics_snapshot(cache_);
  EXPECT_EQ(snapshot.warm_failures, 2U);
  const std::vector<RecordedEvent> failures = log_.of_kind(CacheEventKind::warm_failure);
  ASSERT_EQ(failures.size(), 2U);
  EXPECT_EQ(failures[0].route, "broken");
  EXPECT_EQ(failures[0].message, "template missing");
  EXPECT_EQ(failures[1].route, "empty");
  EXPECT_NE(failures[1].message.find("render is empty"), std::string::npos) << failures[1].message;
  EXPECT_EQ(log_.of_kind(CacheEventKind::render_error).size(), 1U);
  EXPECT_EQ(log_.of_kind(CacheEventKind::refusal).size(), 1U);

  const CacheResult home = serve(signed_in("/home"), "home");
  EXPECT_TRUE(home.hit());
  EXPECT_EQ(home.page->body, "auth home");
}

TEST_F(MetricsTest, WarmSkipsFreshEntries) {
  const std::vector<WarmRequest> requests{
      {.request = anonymous("/home"), .options = {.route = "home"},
       .render = [] { return Page{.body = "home"}; }},
  };
  EXPECT_EQ(cache_.warm(requests), 1U);
  EXPECT_EQ(cache_.warm(requests), 0U);
  EXPECT_EQ(metrics_snapshot(cache_).routes[0].of(Audience::anonymous).hits, 1U);
}

// --- Threads ---

// Run under ThreadSanitizer: several threads create routes and count hits at
// once, and every request must be counted exactly once.
TEST(Metrics, ConcurrentCountsAddUp) {
  PageCache cache{std::make_shared<MemoryStore>()};
  constexpr int thread_count = 4;
  constexpr int requests_per_thread = 4000;
  constexpr int route_count = 8;
  const std::vector<std::string> routes = [] {
    std::vector<std::string> names;
    for (int i = 0; i < route_count; ++i) {
      names.push_back("route" + std::to_string(i));
    }
    return names;
  }();

  // Request i of every thread goes to route i % route_count, audience by the
  // parity of i / route_count.
  std::vector<std::thread> threads;
  for (int t = 0; t < thread_count; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < requests_per_thread; ++i) {
        const int route = i % route_count;
        const std::string path = "/" + routes[static_cast<std::size_t>(route)];
        const Request request = (i / route_count) % 2 == 0 ? anonymous(path) : signed_in(path);
        cache.cached(request, {.route = routes[static_cast<std::size_t>(route)]},
                     [] { return Page{.body = "page"}; });
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }

  const MetricsSnapshot snapshot = metrics_snapshot(cache);
  ASSERT_EQ(snapshot.routes.size(), static_cast<std::size_t>(route_count));
  constexpr std::uint64_t per_audience = thread_count * requests_per_thread / route_count / 2;
  std::uint64_t hits = 0;
  for (const RouteStats& route : snapshot.routes) {
    for (const Audience audience : {Audience::anonymous, Audience::signed_in}) {
      const AudienceStats& stats = route.of(audience);
      EXPECT_EQ(stats.hits + stats.misses, per_audience) << route.route;
      EXPECT_EQ(stats.misses, stats.stored + stats.collapsed) << route.route;
      hits += stats.hits;
    }
  }
  EXPECT_EQ(hits, snapshot.totals.hits);
}

TEST(Metrics, StoreBytesAndEvictionsPerRoute) {
  auto store = std::make_shared<MemoryStore>(MemoryStore::Options{.max_bytes = 64 * 1024, .shards = 1});
  PageCache cache{store};
  for (int i = 0; i < 200; ++i) {
    const std::string path = "/course/" + std::to_string(i);
    cache.cached({.path = path}, {.route = "course"},
                 [] { return Page{.body = std::string(2000, 'x')}; });
  }
  cache.cached({.path = "/home", .viewer = Viewer::signed_in("u")}, {.route = "home"},
               [] { return Page{.body = "home"}; });

  const MetricsSnapshot snapshot = metrics_snapshot(cache);
  std::uint64_t bytes = 0;
  std::uint64_t entries = 0;
  std::uint64_t evicted = 0;
  for (const RouteStats& route : snapshot.routes) {
    for (const Audience audience : {Audience::anonymous, Audience::signed_in}) {
      bytes += route.of(audience).store_bytes;
      entries += route.of(audience).store_entries;
      evicted += route.of(audience).evicted_capacity;
    }
  }
  ASSERT_TRUE(snapshot.store.has_value());
  EXPECT_EQ(bytes, snapshot.store->bytes);
  EXPECT_EQ(entries, snapshot.store->entries);
  EXPECT_EQ(evicted, snapshot.store->evicted_capacity);
  EXPECT_GT(evicted, 0U);

  std::string text;
  write_prometheus(cache, text);
  EXPECT_NE(text.find(R"(viewcache_route_store_entries{route="home",audience="auth"} 1)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(viewcache_route_evictions_total{route="course",audience="anon",reason="capacity"})"),
            std::string::npos);
}

}  // namespace
}  // namespace viewcache
