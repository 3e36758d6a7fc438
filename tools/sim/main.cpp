// viewcache-sim: replays cache traces through eviction policies and prints
// their hit ratios. See help_text() in options.cpp for the usage.

#include <fmt/format.h>

#include <unistd.h>

#include <cstdio>
#include <exception>
#include <new>
#include <string_view>
#include <vector>

#include "errors.hpp"
#include "options.hpp"
#include "replay.hpp"
#include "report.hpp"
#include "trace.hpp"

namespace {

using namespace viewcache::sim;

int run(const Options& options) {
  const bool show_progress = options.progress || ::isatty(STDERR_FILENO) != 0;

  LoadProgress load_progress;
  ReplayProgress replay_progress;
  if (show_progress) {
    load_progress = [&options](std::uint64_t requests) {
      fmt::print(stderr, "viewcache-sim: reading {}: {} requests\n", options.trace,
                 group_digits(requests));
    };
    replay_progress = [](std::string_view what, std::uint64_t done, std::uint64_t total) {
      fmt::print(stderr, "viewcache-sim: {}: {} of {} requests\n", what, group_digits(done),
                 group_digits(total));
    };
  }

  const Trace trace = load_trace(options.format, options.trace, load_progress);
  if (trace.skipped_lines > 0) {
    fmt::print(stderr,
               "viewcache-sim: {}: skipped {} lines that are not GET requests with status 200\n",
               trace.name, group_digits(trace.skipped_lines));
  }

  const std::vector<Result> results =
      replay(trace, options.policies, options.capacities, replay_progress);
  for (const Result& result : results) {
    if (!result.unsupported.empty()) {
      fmt::print(stderr, "viewcache-sim: {} at {}: {}\n", policy_name(result.policy),
                 result.capacity.text, result.unsupported);
    }
  }

  if (options.json) {
    for (const Result& result : results) {
      if (result.unsupported.empty()) {
        fmt::print("{}\n", format_json(trace, result));
      }
    }
  } else {
    fmt::print("{}", format_table(trace, results));
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::vector<std::string_view> arguments(argv + 1, argv + argc);
    const Options options = parse_command_line(arguments);
    if (options.help) {
      fmt::print("{}", help_text());
      return 0;
    }
    return run(options);
  } catch (const InputError& error) {
    fmt::print(stderr, "viewcache-sim: error: {}\n", error.what());
    return 2;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "viewcache-sim: error: out of memory; replay a smaller trace\n");
    return 1;
  } catch (const std::exception& error) {
    fmt::print(stderr, "viewcache-sim: error: {}\n", error.what());
    return 1;
  }
}
