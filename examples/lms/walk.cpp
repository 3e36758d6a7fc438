// viewcache-lms-walk: walks the sign-in flow of a running viewcache-lms with a
// real HTTP client and checks that every page went to the audience it was
// requested for.
//
//   viewcache-lms-walk --url http://127.0.0.1:8080 [--user alice]
//
// Exit status: 0 when every step was right, 1 when a step was wrong, 2 for a
// usage error or when the site cannot be reached.

#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::string_view program = "viewcache-lms-walk";
constexpr int exit_wrong_page = 1;
constexpr int exit_usage = 2;
constexpr int refreshes = 5;

struct Flags {
  std::string url;
  std::string user = "alice";
  bool help = false;
};

enum class Action { get_home, log_in, log_out };

struct Step {
  Action action;
  std::string_view name;
};

// One row of the walk table. "-" marks a field that does not apply, such as
// the audience of a redirect.
struct Row {
  int number = 0;
  std::string_view name;
  int status = 0;
  std::string requested = "-";
  std::string served = "-";
  std::string user = "-";
  std::string cache_status = "-";
  std::string problem;  // empty when the step was right
};

// Thrown when a request gets no HTTP response at all.
struct TransportError {
  std::string message;
};

void print_usage(std::FILE* out) {
  fmt::print(out,
             "Usage: {} --url URL [--user NAME]\n"
             "\n"
             "Walks the sign-in flow of a running viewcache-lms: the home page as an\n"
             "anonymous visitor, after logging in, and after logging out, refreshing each\n"
             "{} times. Prints one row per request and checks that each page was\n"
             "rendered for the audience (anon or auth) and user it was requested for.\n"
             "\n"
             "  --url URL    the site, as printed by viewcache-lms, such as http://127.0.0.1:8080\n"
             "  --user NAME  the user to log in as (default alice)\n"
             "  --help       print this help and exit\n"
             "\n"
             "Exits 0 when every step was right, 1 when one was wrong, 2 on a usage or\n"
             "connection error.\n",
             program, refreshes);
}

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
    if (argument != "--url" && argument != "--user") {
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
    (argument == "--url" ? flags.url : flags.user) = value;
  }

  if (!flags.help && flags.url.empty()) {
    return fmt::format("missing --url; pass the URL that viewcache-lms printed, such as "
                       "--url http://127.0.0.1:8080");
  }
  if (!flags.help && flags.user.empty()) {
    return "invalid --user \"\": give a user name such as alice";
  }
  return {};
}

// Returns the value of the first attribute called name in body, such as
// data-audience="anon", or "-" when body has none.
std::string attribute_value(std::string_view body, std::string_view name) {
  const std::string opening = fmt::format("{}=\"", name);
  const std::size_t start = body.find(opening);
  if (start == std::string_view::npos) {
    return "-";
  }
  const std::size_t value_start = start + opening.size();
  const std::size_t value_end = body.find('"', value_start);
  if (value_end == std::string_view::npos) {
    return "-";
  }
  return std::string(body.substr(value_start, value_end - value_start));
}

// Keeps the session cookie between requests, as a browser would. Only the
// one cookie the site sets is handled.
class SessionCookie {
 public:
  void update(const httplib::Response& response) {
    const std::size_t count = response.get_header_value_count("Set-Cookie");
    for (std::size_t i = 0; i < count; ++i) {
      const std::string set_cookie = response.get_header_value("Set-Cookie", i);
      if (!set_cookie.starts_with("session=")) {
        continue;
      }
      const std::string_view rest = std::string_view(set_cookie).substr(8);
      const std::string_view value = rest.substr(0, rest.find(';'));
      const bool expired = rest.find("Max-Age=0") != std::string_view::npos;
      value_ = value.empty() || expired ? std::string() : std::string(value);
    }
  }

  [[nodiscard]] bool present() const noexcept { return !value_.empty(); }

  [[nodiscard]] httplib::Headers headers() const {
    if (value_.empty()) {
      return {};
    }
    return {{"Cookie", fmt::format("session={}", value_)}};
  }

 private:
  std::string value_;
};

class Walker {
 public:
  Walker(httplib::Client& client, std::string url, std::string user)
      : client_(client), url_(std::move(url)), user_(std::move(user)) {}

  Row run(int number, const Step& step) {
    Row row{.number = number, .name = step.name};
    switch (step.action) {
      case Action::get_home:
        get_home(row);
        break;
      case Action::log_in:
        log_in(row);
        break;
      case Action::log_out:
        log_out(row);
        break;
    }
    return row;
  }

 private:
  void get_home(Row& row) {
    // Between the login and the logout steps the walker requests the
    // signed-in page, even when the login failed, so that a broken login
    // shows up in every row it affects.
    const httplib::Result result = client_.Get("/home", cookie_.headers());
    const httplib::Response& response = checked(result, "GET /home");

    row.status = response.status;
    row.requested = signed_in_ ? "auth" : "anon";
    row.served = attribute_value(response.body, "data-audience");
    row.user = attribute_value(response.body, "data-user");
    if (response.has_header("Cache-Status")) {
      row.cache_status = response.get_header_value("Cache-Status");
    }

    const std::string expected_user = signed_in_ ? user_ : "-";
    if (response.status != 200) {
      row.problem = fmt::format("expected status 200, got {}", response.status);
    } else if (row.served != row.requested) {
      row.problem =
          fmt::format("requested the {} page, served the {} page", row.requested, row.served);
    } else if (row.user != expected_user) {
      row.problem = fmt::format("expected user {}, served user {}", expected_user, row.user);
    }
  }

  void log_in(Row& row) {
    const httplib::Result result =
        client_.Post("/login", cookie_.headers(), httplib::Params{{"user", user_}});
    const httplib::Response& response = checked(result, "POST /login");
    cookie_.update(response);
    signed_in_ = true;

    row.status = response.status;
    row.user = user_;
    if (response.status != 303) {
      row.problem = fmt::format("expected status 303 (login accepted), got {}", response.status);
    } else if (!cookie_.present()) {
      row.problem = "the login response set no session cookie";
    }
  }

  void log_out(Row& row) {
    const httplib::Result result = client_.Post("/logout", cookie_.headers(), "", "text/plain");
    const httplib::Response& response = checked(result, "POST /logout");
    cookie_.update(response);
    signed_in_ = false;

    row.status = response.status;
    if (response.status != 303) {
      row.problem = fmt::format("expected status 303, got {}", response.status);
    } else if (cookie_.present()) {
      row.problem = "the logout response did not clear the session cookie";
    }
  }

  const httplib::Response& checked(const httplib::Result& result, std::string_view request) {
    if (!result) {
      const std::string reason = result.error() == httplib::Error::Connection
                                     ? "connection refused or host unreachable"
                                     : httplib::to_string(result.error());
      throw TransportError{fmt::format("{} to {} failed: {}; is viewcache-lms running there?",
                                       request, url_, reason)};
    }
    return result.value();
  }

  httplib::Client& client_;
  std::string url_;
  std::string user_;
  SessionCookie cookie_;
  bool signed_in_ = false;
};

std::vector<Step> sign_in_flow() {
  std::vector<Step> steps;
  const auto add_home_visits = [&steps] {
    steps.push_back({Action::get_home, "GET /home"});
    for (int i = 0; i < refreshes; ++i) {
      steps.push_back({Action::get_home, "refresh /home"});
    }
  };

  add_home_visits();
  steps.push_back({Action::log_in, "POST /login"});
  add_home_visits();
  steps.push_back({Action::log_out, "POST /logout"});
  add_home_visits();
  return steps;
}

void print_row(const Row& row, std::size_t user_width) {
  const std::string status = row.status == 0 ? "-" : fmt::format("{}", row.status);
  fmt::print("{:>4}  {:<13}  {:>6}  {:<9}  {:<6}  {:<{}}  {}\n", row.number, row.name, status,
             row.requested, row.served, row.user, user_width, row.cache_status);
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

  // httplib sends without MSG_NOSIGNAL, so a site that closes the connection
  // mid-request would otherwise end this process with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);

  // httplib throws std::invalid_argument for a scheme it does not support.
  std::optional<httplib::Client> client;
  try {
    client.emplace(flags.url);
  } catch (const std::invalid_argument&) {
  }
  if (!client || !client->is_valid()) {
    fmt::print(stderr, "{}: invalid --url \"{}\"; give a URL such as http://127.0.0.1:8080\n",
               program, flags.url);
    return exit_usage;
  }
  client->set_follow_location(false);
  client->set_connection_timeout(std::chrono::seconds{5});
  client->set_read_timeout(std::chrono::seconds{10});

  fmt::print("{}: walking the sign-in flow at {} as {}\n\n", program, flags.url, flags.user);
  const std::size_t user_width = std::max<std::size_t>(4, flags.user.size());
  fmt::print("{:>4}  {:<13}  {:>6}  {:<9}  {:<6}  {:<{}}  {}\n", "step", "request", "status",
             "requested", "served", "user", user_width, "cache-status");

  Walker walker(*client, flags.url, flags.user);
  std::vector<Row> wrong_rows;
  const std::vector<Step> steps = sign_in_flow();
  try {
    int number = 0;
    for (const Step& step : steps) {
      const Row row = walker.run(++number, step);
      print_row(row, user_width);
      if (!row.problem.empty()) {
        wrong_rows.push_back(row);
      }
    }
  } catch (const TransportError& error) {
    std::fflush(stdout);
    fmt::print(stderr, "{}: {}\n", program, error.message);
    return exit_usage;
  }

  fmt::print("\n");
  if (wrong_rows.empty()) {
    fmt::print("all {} steps were served the audience and user they requested\n", steps.size());
    return 0;
  }
  fmt::print("{} of {} steps failed:\n", wrong_rows.size(), steps.size());
  for (const Row& row : wrong_rows) {
    fmt::print("  step {} ({}): {}\n", row.number, row.name, row.problem);
  }
  return exit_wrong_page;
}
