#pragma once

// The command line of viewcache-sim.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "policy.hpp"
#include "replay.hpp"
#include "trace.hpp"

namespace viewcache::sim {

struct Options {
  std::string trace;
  Format format = Format::keys;
  std::vector<Capacity> capacities;
  std::vector<PolicyKind> policies;  // without repeats, {viewcache} when none is given
  bool json = false;
  bool progress = false;  // report progress on stderr even when it is not a terminal
  bool help = false;
};

// Parses the arguments after the program name. Throws InputError for an
// unknown option or value, a missing required option, or a byte capacity
// for a format without sizes.
[[nodiscard]] Options parse_command_line(std::span<const std::string_view> arguments);

// Parses "1000" (entries) or "64MiB" (bytes; units B, KiB, MiB, GiB).
// Throws InputError for 0, a malformed number, an unknown unit or overflow.
[[nodiscard]] Capacity parse_capacity(std::string_view text);

[[nodiscard]] std::string help_text();

}  // namespace viewcache::sim
