#include "report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

namespace viewcache::sim {
namespace {

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      out += fmt::format("\\u{:04x}", byte);
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

// Writes a ratio so that it reads back exactly and always as a JSON
// fraction: 0.0 as "0.0", where fmt alone writes "0".
std::string json_fraction(double value) {
  std::string text = fmt::format("{}", value);
  if (text.find_first_of(".e") == std::string::npos) {
    text += ".0";
  }
  return text;
}

// The policies of results, each once, in the order they first appear.
std::vector<std::string_view> policy_columns(std::span<const Result> results) {
  std::vector<std::string_view> names;
  for (const Result& result : results) {
    const std::string_view name = policy_name(result.policy);
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      names.push_back(name);
    }
  }
  return names;
}

void append_ratio_table(std::string& out, std::string_view title, std::span<const Result> results,
                        bool bytes) {
  const std::vector<std::string_view> policies = policy_columns(results);
  std::size_t capacity_width = std::string_view("capacity").size();
  for (const Result& result : results) {
    capacity_width = std::max(capacity_width, result.capacity.text.size());
  }

  out += fmt::format("{}\n{:>{}}", title, "capacity", capacity_width);
  for (const std::string_view policy : policies) {
    out += fmt::format("  {:>9}", policy);
  }
  out += '\n';

  // results are ordered by capacity, then policy, one per pair.
  for (std::size_t row = 0; row < results.size(); row += policies.size()) {
    out += fmt::format("{:>{}}", results[row].capacity.text, capacity_width);
    for (std::size_t column = 0; column < policies.size(); ++column) {
      const Result& result = results[row + column];
      if (!result.unsupported.empty()) {
        out += fmt::format("  {:>9}", "n/a");
      } else {
        const double ratio = bytes ? result.byte_hit_ratio() : result.hit_ratio();
        out += fmt::format("  {:>8.2f}%", 100.0 * ratio);
      }
    }
    out += '\n';
  }
}

}  // namespace

std::string group_digits(std::uint64_t n) {
  std::string digits = std::to_string(n);
  for (std::size_t i = digits.size(); i > 3; i -= 3) {
    digits.insert(i - 3, 1, ',');
  }
  return digits;
}

std::string format_table(const Trace& trace, std::span<const Result> results) {
  std::string out = fmt::format("{} ({} format): {} requests, {} distinct keys\n", trace.name,
                                format_name(trace.format), group_digits(trace.size()),
                                group_digits(trace.distinct_keys));
  append_ratio_table(out, "hit ratio", results, false);
  if (trace.has_sizes()) {
    out += '\n';
    append_ratio_table(out, "byte hit ratio", results, true);
  }
  return out;
}

std::string format_json(const Trace& trace, const Result& result) {
  std::string out = fmt::format(
      "{{\"trace\":{},\"format\":{},\"policy\":{},\"capacity\":{},\"capacity_unit\":{},"
      "\"requests\":{},\"hits\":{},\"hit_ratio\":{}",
      json_string(trace.name), json_string(format_name(trace.format)),
      json_string(policy_name(result.policy)), result.capacity.value,
      json_string(result.capacity.in_bytes ? "bytes" : "entries"), result.requests, result.hits,
      json_fraction(result.hit_ratio()));
  if (trace.has_sizes()) {
    out += fmt::format(",\"bytes\":{},\"hit_bytes\":{},\"byte_hit_ratio\":{}", result.bytes,
                       result.hit_bytes, json_fraction(result.byte_hit_ratio()));
  }
  out += fmt::format(",\"distinct_keys\":{},\"seconds\":{:.3f}}}", trace.distinct_keys,
                     result.seconds);
  return out;
}

}  // namespace viewcache::sim
