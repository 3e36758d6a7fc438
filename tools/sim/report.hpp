#pragma once

// The output of viewcache-sim: an aligned table, or JSON lines.

#include <span>
#include <string>

#include "replay.hpp"
#include "trace.hpp"

namespace viewcache::sim {

// Writes n with a comma between groups of three digits: 1,234,567.
[[nodiscard]] std::string group_digits(std::uint64_t n);

// Formats results from replay() as a header line about the trace and a
// table of hit ratios in percent, one row per capacity and one column per
// policy. A second table gives the byte hit ratio when the trace has sizes.
[[nodiscard]] std::string format_table(const Trace& trace, std::span<const Result> results);

// One JSON object, without a newline, for a result that ran.
[[nodiscard]] std::string format_json(const Trace& trace, const Result& result);

}  // namespace viewcache::sim
