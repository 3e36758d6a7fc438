#pragma once

// The output of viewcache-sim: an aligned table, or JSON lines.

#include <span>
#include <string>

#include "replay.hpp"
#include "trace.hpp"

namespace viewcache::sim {

// Writes n with a comma between groups of three digits: 1,234,567.
[[nodiscard]] std::string group_digits(std::uint64_t n);

// A header line about the trace, then one row per capacity and one column
// per policy with the hit ratio in percent; a second such table gives the
// byte hit ratio when the trace has sizes. results come from replay().
[[nodiscard]] std::string format_table(const Trace& trace, std::span<const Result> results);

// One JSON object, without a newline, for a result that ran.
[[nodiscard]] std::string format_json(const Trace& trace, const Result& result);

}  // namespace viewcache::sim
