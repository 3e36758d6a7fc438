#include "options.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>

#include "errors.hpp"

namespace viewcache::sim {
namespace {

constexpr std::string_view usage_hint = "run viewcache-sim --help for the usage";

// Splits "a,b,c" into its non-empty parts.
std::vector<std::string_view> split_list(std::string_view text) {
  std::vector<std::string_view> parts;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    const std::string_view part = text.substr(0, comma);
    if (!part.empty()) {
      parts.push_back(part);
    }
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  return parts;
}

}  // namespace

Capacity parse_capacity(std::string_view text) {
  const auto fail = [text](std::string_view problem) {
    throw InputError(fmt::format(
        "invalid capacity '{}': {}; give a whole number of entries, such as 1000, or of bytes "
        "with a unit (B, KiB, MiB, GiB), such as 64MiB",
        text, problem));
  };

  std::uint64_t number = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (end == text.data()) {
    fail("it does not start with a number");
  }
  if (error == std::errc::result_out_of_range) {
    fail("the number is too large");
  }

  const std::string_view unit = text.substr(static_cast<std::size_t>(end - text.data()));
  std::uint64_t multiplier = 1;
  bool in_bytes = true;
  if (unit.empty()) {
    in_bytes = false;
  } else if (unit == "B") {
    multiplier = 1;
  } else if (unit == "KiB") {
    multiplier = std::uint64_t{1} << 10U;
  } else if (unit == "MiB") {
    multiplier = std::uint64_t{1} << 20U;
  } else if (unit == "GiB") {
    multiplier = std::uint64_t{1} << 30U;
  } else {
    fail(fmt::format("unknown unit '{}'", unit));
  }

  if (number == 0) {
    fail("a cache of capacity 0 stores nothing");
  }
  if (number > std::numeric_limits<std::uint64_t>::max() / multiplier) {
    fail("the number is too large");
  }
  return Capacity{.value = number * multiplier, .in_bytes = in_bytes, .text = std::string(text)};
}

Options parse_command_line(std::span<const std::string_view> arguments) {
  Options options;
  bool have_trace = false;
  std::optional<Format> format;

  for (std::size_t i = 0; i < arguments.size(); ++i) {
    std::string_view name = arguments[i];
    std::optional<std::string_view> inline_value;
    if (const std::size_t equals = name.find('='); name.starts_with("--") &&
                                                   equals != std::string_view::npos) {
      inline_value = name.substr(equals + 1);
      name = name.substr(0, equals);
    }

    // Returns the option's value, written as --name=value or --name value.
    const auto value = [&]() -> std::string_view {
      if (inline_value) {
        return *inline_value;
      }
      if (i + 1 >= arguments.size()) {
        throw InputError(fmt::format("option {} needs a value; {}", name, usage_hint));
      }
      return arguments[++i];
    };
    const auto flag = [&]() {
      if (inline_value) {
        throw InputError(fmt::format("option {} takes no value; {}", name, usage_hint));
      }
    };

    if (name == "--help" || name == "-h") {
      flag();
      options.help = true;
    } else if (name == "--trace") {
      options.trace = std::string(value());
      have_trace = true;
    } else if (name == "--format") {
      const std::string_view text = value();
      format = parse_format(text);
      if (!format) {
        throw InputError(fmt::format("unknown format '{}'; valid formats: {}", text,
                                     fmt::join(format_names, ", ")));
      }
    } else if (name == "--capacity") {
      for (const std::string_view part : split_list(value())) {
        options.capacities.push_back(parse_capacity(part));
      }
    } else if (name == "--policy") {
      const std::string_view text = value();
      const std::vector<std::string_view> parts = split_list(text);
      if (parts.empty()) {
        throw InputError(fmt::format("--policy needs a policy name; valid policies: {}",
                                     fmt::join(policy_names, ", ")));
      }
      for (const std::string_view part : parts) {
        const auto policy = parse_policy(part);
        if (!policy) {
          throw InputError(fmt::format("unknown policy '{}'; valid policies: {}", part,
                                       fmt::join(policy_names, ", ")));
        }
        if (std::find(options.policies.begin(), options.policies.end(), *policy) ==
            options.policies.end()) {
          options.policies.push_back(*policy);
        }
      }
    } else if (name == "--json") {
      flag();
      options.json = true;
    } else if (name == "--progress") {
      flag();
      options.progress = true;
    } else {
      throw InputError(fmt::format("unknown argument '{}'; {}", arguments[i], usage_hint));
    }
  }

  if (options.help) {
    return options;
  }
  if (!have_trace || options.trace.empty()) {
    throw InputError(fmt::format("--trace FILE is missing; {}", usage_hint));
  }
  if (!format) {
    throw InputError(fmt::format("--format is missing; valid formats: {}",
                                 fmt::join(format_names, ", ")));
  }
  options.format = *format;
  if (options.capacities.empty()) {
    throw InputError(fmt::format("--capacity is missing; give at least one, such as "
                                 "--capacity 1000; {}",
                                 usage_hint));
  }
  if (options.policies.empty()) {
    options.policies.push_back(PolicyKind::viewcache);
  }

  for (const Capacity& capacity : options.capacities) {
    if (capacity.in_bytes && !format_has_sizes(options.format)) {
      throw InputError(fmt::format(
          "capacity {} is in bytes, but the {} format records no request sizes; give a number "
          "of entries, or use a format with sizes (adaptsize, access-log)",
          capacity.text, format_name(options.format)));
    }
  }
  const bool only_arc =
      options.policies.size() == 1 && options.policies.front() == PolicyKind::arc;
  const bool all_bytes = std::all_of(options.capacities.begin(), options.capacities.end(),
                                     [](const Capacity& capacity) { return capacity.in_bytes; });
  if (only_arc && all_bytes) {
    throw InputError(
        "the arc policy counts entries and does not run at byte capacities; give a number of "
        "entries, or another policy");
  }
  return options;
}

std::string help_text() {
  return R"(Usage: viewcache-sim --trace FILE --format FORMAT --capacity N [--capacity N ...]
                     [--policy P ...] [--json] [--progress]

Replays a cache access trace through eviction policies and prints the hit
ratio of each policy at each capacity (and the byte hit ratio when the trace
records sizes).

Options:
  --trace FILE      the trace file; .zst, .xz and .gz files are decompressed
                    while reading, recognised by their first bytes. For
                    --format zipf, the workload's parameters instead (below).
  --format FORMAT   how the trace is written (below).
  --capacity N      the cache size: a number of entries (1000), or bytes with
                    a unit B, KiB, MiB or GiB (64MiB), where each entry weighs
                    its size; bytes only for formats with sizes. Repeat the
                    option or give a comma list for several capacities.
  --policy P        viewcache (the default), lru, arc, opt or caffeine. Repeat
                    the option or give a comma list for several policies.
  --json            print one JSON object per policy and capacity, one per
                    line, instead of the table.
  --progress        report progress on stderr every few million requests;
                    without it, progress is reported only when stderr is a
                    terminal.
  -h, --help        print this help.

Formats:
  arc          ARC .lis text: each line "start count ignored request_no" is
               count requests, for keys start .. start+count-1.
  lirs         one decimal key per line; empty lines and "*" lines are skipped.
  cache2k      big-endian 32-bit integer keys, one after another.
  int64        big-endian 64-bit integer keys (the scarab and corda traces).
  adaptsize    text "time id size" per line; the key is the pair (id, size),
               and size is the request's size in bytes.
  keys         one key per line, any bytes but a newline; an empty line is
               the empty key, and a CR before the newline is part of the key.
  access-log   a web server log in common or combined log format. Each GET
               with status 200 is a lookup of its request target (path and
               query; an absolute http:// or https:// target counts as its
               path and query), sized by the bytes column ("-" counts as 0). Every
               other request (other methods, other statuses) is not a cache
               lookup: it is skipped, and the number skipped is printed on
               stderr. Empty lines are ignored; any other line that does not
               parse is an error.
  zipf         a synthetic workload; --trace gives its parameters, such as
               'alpha=0.99,keys=100000,requests=2000000,flood=0.3,seed=1'.
               Requests draw from keys keys with Zipf skew alpha, except
               that a share flood of them asks for a new key that never
               repeats, like a flood of random query strings. Omitted
               parameters take the values of this example, except flood,
               which is 0. The same seed gives the same trace.

Policies:
  viewcache    the W-TinyLFU policy of viewcache's MemoryStore.
  lru          least recently used.
  arc          Adaptive Replacement Cache (Megiddo and Modha, FAST 2003);
               entry capacities only.
  opt          Belady's optimal policy, which may decline to store a request:
               the upper bound. For byte capacities an approximation.
  caffeine     Caffeine 2.6 (Debian's libcaffeine-java) in a Java child
               process: maximumSize, or maximumWeight for bytes. Caffeine
               seeds its sketch at random, so its hit ratio varies from
               run to run, by several points on small traces.

Exit status: 0 on success, 2 for invalid arguments or an unreadable or
invalid trace, 1 for other failures.
)";
}

}  // namespace viewcache::sim
