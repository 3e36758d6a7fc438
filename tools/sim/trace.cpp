#include "trace.hpp"

#include <boost/container_hash/hash.hpp>
#include <boost/unordered/unordered_flat_map.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <string>
#include <utility>

#include "byte_source.hpp"
#include "errors.hpp"
#include "line_reader.hpp"
#include "synthetic.hpp"

namespace viewcache::sim {
namespace {

// How often loading reports progress, in requests.
constexpr std::uint64_t progress_interval = std::uint64_t{1} << 20U;

struct TextHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept {
    return boost::hash<std::string_view>{}(text);
  }
};

struct TextEqual {
  using is_transparent = void;
  bool operator()(std::string_view left, std::string_view right) const noexcept {
    return left == right;
  }
};

// Gives each distinct key the next dense id.
class KeyIds {
 public:
  std::uint32_t for_number(std::uint64_t key) {
    const auto [position, inserted] = numbers_.try_emplace(key, count_);
    if (inserted) {
      advance();
    }
    return position->second;
  }

  std::uint32_t for_pair(std::uint64_t first, std::uint64_t second) {
    const auto [position, inserted] = pairs_.try_emplace(std::pair(first, second), count_);
    if (inserted) {
      advance();
    }
    return position->second;
  }

  std::uint32_t for_text(std::string_view key) {
    const auto found = texts_.find(key);
    if (found != texts_.end()) {
      return found->second;
    }
    texts_.emplace(std::string(key), count_);
    advance();
    return count_ - 1;
  }

  [[nodiscard]] std::uint32_t count() const noexcept { return count_; }

 private:
  void advance() {
    if (count_ == std::numeric_limits<std::uint32_t>::max()) {
      throw InputError(
          "the trace has more than 4,294,967,295 distinct keys, which viewcache-sim cannot "
          "number; replay a part of it");
    }
    ++count_;
  }

  boost::unordered_flat_map<std::uint64_t, std::uint32_t> numbers_;
  boost::unordered_flat_map<std::pair<std::uint64_t, std::uint64_t>, std::uint32_t,
                            boost::hash<std::pair<std::uint64_t, std::uint64_t>>>
      pairs_;
  boost::unordered_flat_map<std::string, std::uint32_t, TextHash, TextEqual> texts_;
  std::uint32_t count_ = 0;
};

// Appends requests to a trace, reporting progress. Request positions must
// fit in 32 bits with one value to spare, which the opt policy uses.
class TraceBuilder {
 public:
  static constexpr std::size_t max_requests = std::numeric_limits<std::uint32_t>::max() - 1;

  TraceBuilder(Trace& trace, const LoadProgress& progress) : trace_(trace), progress_(progress) {}

  void add(std::uint32_t key) {
    if (trace_.keys.size() == max_requests) {
      throw InputError(fmt::format(
          "trace '{}' has more than {} requests, which viewcache-sim cannot replay; replay a "
          "part of it",
          trace_.name, max_requests));
    }
    trace_.keys.push_back(key);
    if (progress_ && trace_.keys.size() % progress_interval == 0) {
      progress_(trace_.keys.size());
    }
  }

  void add(std::uint32_t key, std::uint64_t size) {
    trace_.sizes.push_back(size);
    add(key);
  }

 private:
  Trace& trace_;
  const LoadProgress& progress_;
};

bool is_blank(char c) noexcept { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view trim(std::string_view text) noexcept {
  while (!text.empty() && is_blank(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_blank(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

// Splits off the next field separated by blanks; empty when none is left.
std::string_view next_field(std::string_view& text) noexcept {
  text = trim(text);
  std::size_t end = 0;
  while (end < text.size() && !is_blank(text[end])) {
    ++end;
  }
  const std::string_view field = text.substr(0, end);
  text.remove_prefix(end);
  return field;
}

std::optional<std::uint64_t> parse_unsigned(std::string_view text) noexcept {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

// Accepts a decimal integer with an optional minus sign and returns its
// two's complement bits, as a Java long would hold them.
std::optional<std::uint64_t> parse_integer(std::string_view text) noexcept {
  if (!text.empty() && text.front() == '-') {
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size()) {
      return std::nullopt;
    }
    return static_cast<std::uint64_t>(value);
  }
  return parse_unsigned(text);
}

// The start of a line as it may appear in a message: at most 80 bytes,
// control characters and non-ASCII bytes escaped.
std::string quote_line(std::string_view line) {
  constexpr std::size_t shown = 80;
  std::string quoted = "\"";
  for (const char c : line.substr(0, shown)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7F || c == '"' || c == '\\') {
      quoted += fmt::format("\\x{:02x}", byte);
    } else {
      quoted += c;
    }
  }
  quoted += line.size() > shown ? "\"..." : "\"";
  return quoted;
}

[[noreturn]] void fail_line(const LineReader& reader, std::string_view line,
                            std::string_view problem) {
  throw InputError(fmt::format("{}:{}: {}: {}", reader.path(), reader.line_number(), problem,
                               quote_line(line)));
}

// ARC .lis: "start count ignored request_no" expands to count requests for
// the keys start, start+1, ..., start+count-1.
void read_arc(LineReader& reader, KeyIds& ids, TraceBuilder& builder) {
  while (const auto line = reader.next()) {
    std::string_view rest = *line;
    const std::string_view start_field = next_field(rest);
    if (start_field.empty()) {
      continue;
    }
    const auto start = parse_unsigned(start_field);
    const auto count = parse_unsigned(next_field(rest));
    if (!start || !count) {
      fail_line(reader, *line,
                "expected 'start count ignored request_no' with a decimal start block and "
                "count, as in an ARC .lis trace (is --format right?)");
    }
    if (*count > std::numeric_limits<std::uint64_t>::max() - *start) {
      fail_line(reader, *line, "start + count overflows a 64-bit block number");
    }
    for (std::uint64_t block = *start; block < *start + *count; ++block) {
      builder.add(ids.for_number(block));
    }
  }
}

// LIRS: one decimal key per line; empty lines and "*" checkpoint lines are
// skipped.
void read_lirs(LineReader& reader, KeyIds& ids, TraceBuilder& builder) {
  while (const auto line = reader.next()) {
    const std::string_view field = trim(*line);
    if (field.empty() || field == "*") {
      continue;
    }
    const auto key = parse_integer(field);
    if (!key) {
      fail_line(reader, *line,
                "expected one decimal key per line, as in a LIRS trace (is --format right?)");
    }
    builder.add(ids.for_number(*key));
  }
}

// AdaptSize: "time id size"; the key is (id, size), as Caffeine's simulator
// reads this format, and the size is the request's weight.
void read_adaptsize(LineReader& reader, KeyIds& ids, TraceBuilder& builder) {
  while (const auto line = reader.next()) {
    std::string_view rest = *line;
    const std::string_view time_field = next_field(rest);
    if (time_field.empty()) {
      continue;
    }
    const auto id = parse_integer(next_field(rest));
    const auto size = parse_unsigned(next_field(rest));
    if (!id || !size || !next_field(rest).empty()) {
      fail_line(reader, *line,
                "expected 'time id size' with a decimal id and size in bytes, as in an "
                "AdaptSize trace (is --format right?)");
    }
    builder.add(ids.for_pair(*id, *size), *size);
  }
}

// Every line is a key, byte for byte: an empty line is the empty key, and a
// '\r' before the newline is part of the key.
void read_keys(LineReader& reader, KeyIds& ids, TraceBuilder& builder) {
  while (const auto line = reader.next()) {
    builder.add(ids.for_text(*line));
  }
}

// Returns the position after the closing quote of the quoted field that
// starts at text[open], or npos. A backslash escapes the next byte, as Apache
// writes a quote inside the request line.
std::size_t skip_quoted(std::string_view text, std::size_t open) noexcept {
  for (std::size_t i = open + 1; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == '"') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// Returns the origin form (path and query) of an HTTP request target. An
// absolute-form target, which requests through a proxy carry, loses its
// scheme and authority, so "http://example.org/a?b" and "/a?b" are one key.
std::string origin_form(std::string_view target) {
  for (const std::string_view scheme : {std::string_view{"http://"}, std::string_view{"https://"}}) {
    const bool absolute =
        target.size() >= scheme.size() &&
        std::equal(scheme.begin(), scheme.end(), target.begin(), [](char lower, char c) {
          return lower == static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        });
    if (!absolute) {
      continue;
    }
    const std::string_view rest = target.substr(scheme.size());
    const std::size_t path = rest.find_first_of("/?");
    if (path == std::string_view::npos) {
      return "/";
    }
    return rest[path] == '/' ? std::string{rest.substr(path)} : "/" + std::string{rest.substr(path)};
  }
  return std::string{target};
}

// Common and combined log format:
//   host ident user [time] "METHOD target PROTOCOL" status bytes ["referer" "agent"]
// A GET with status 200 is a lookup of its target (path and query) with the
// bytes column as its size ("-" counts as 0). Every other request is not a
// cache lookup and is only counted in skipped_lines. Empty lines are ignored.
void read_access_log(LineReader& reader, KeyIds& ids, TraceBuilder& builder,
                     std::uint64_t& skipped_lines) {
  constexpr std::string_view expected =
      "expected a common or combined log format line, host ident user [time] \"request\" "
      "status bytes";
  while (const auto line = reader.next()) {
    const std::string_view text = *line;
    if (trim(text).empty()) {
      continue;
    }

    // The request is the quoted field right after the bracketed time.
    const std::size_t time_open = text.find('[');
    const std::size_t time_close =
        time_open == std::string_view::npos ? time_open : text.find(']', time_open);
    const std::size_t quote_open =
        time_close == std::string_view::npos ? time_close : text.find('"', time_close);
    if (quote_open == std::string_view::npos) {
      fail_line(reader, text, expected);
    }
    if (!trim(text.substr(time_close + 1, quote_open - time_close - 1)).empty()) {
      fail_line(reader, text, expected);
    }
    const std::size_t quote_end = skip_quoted(text, quote_open);
    if (quote_end == std::string_view::npos) {
      fail_line(reader, text, "the quoted request line has no closing quote");
    }

    std::string_view rest = text.substr(quote_end);
    const auto status = parse_unsigned(next_field(rest));
    const std::string_view bytes_field = next_field(rest);
    const auto bytes = bytes_field == "-" ? std::optional<std::uint64_t>(0)
                                          : parse_unsigned(bytes_field);
    if (!status || !bytes) {
      fail_line(reader, text,
                "expected a decimal status and a byte count (or -) after the request");
    }

    std::string_view request = text.substr(quote_open + 1, quote_end - quote_open - 2);
    const std::string_view method = next_field(request);
    if (*status != 200 || method != "GET") {
      ++skipped_lines;
      continue;
    }
    const std::string_view target = next_field(request);
    if (target.empty()) {
      fail_line(reader, text, "a GET with status 200 has no request target");
    }
    builder.add(ids.for_text(origin_form(target)), *bytes);
  }
}

std::uint64_t read_big_endian(const unsigned char* bytes, std::size_t count) noexcept {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < count; ++i) {
    value = (value << 8U) | bytes[i];
  }
  return value;
}

// cache2k: big-endian int32 keys, as Java's DataInputStream.readInt reads them.
void read_cache2k(RecordReader& reader, KeyIds& ids, TraceBuilder& builder) {
  while (const unsigned char* record = reader.next()) {
    const auto bits = static_cast<std::uint32_t>(read_big_endian(record, 4));
    const auto value = static_cast<std::int32_t>(bits);
    builder.add(ids.for_number(static_cast<std::uint64_t>(std::int64_t{value})));
  }
}

// scarab, corda: big-endian int64 keys (DataInputStream.readLong).
void read_int64(RecordReader& reader, KeyIds& ids, TraceBuilder& builder) {
  while (const unsigned char* record = reader.next()) {
    builder.add(ids.for_number(read_big_endian(record, 8)));
  }
}

}  // namespace

std::optional<Format> parse_format(std::string_view name) noexcept {
  constexpr Format formats[] = {Format::arc,       Format::lirs, Format::cache2k,
                                Format::int64,     Format::adaptsize, Format::keys,
                                Format::access_log, Format::zipf};
  for (std::size_t i = 0; i < std::size(formats); ++i) {
    if (format_names[i] == name) {
      return formats[i];
    }
  }
  return std::nullopt;
}

std::string_view format_name(Format format) noexcept {
  return format_names[static_cast<std::size_t>(format)];
}

bool format_has_sizes(Format format) noexcept {
  return format == Format::adaptsize || format == Format::access_log;
}

Trace load_trace(Format format, const std::string& source, const LoadProgress& progress) {
  if (format == Format::zipf) {
    return generate_zipf(source, progress);
  }

  Trace trace;
  trace.name = source;
  trace.format = format;
  KeyIds ids;
  TraceBuilder builder(trace, progress);

  switch (format) {
    case Format::cache2k:
    case Format::int64: {
      const std::size_t record_bytes = format == Format::cache2k ? 4 : 8;
      RecordReader reader(open_byte_source(source), source, record_bytes,
                          std::string(format_name(format)));
      if (format == Format::cache2k) {
        read_cache2k(reader, ids, builder);
      } else {
        read_int64(reader, ids, builder);
      }
      break;
    }
    default: {
      LineReader reader(open_byte_source(source), source);
      switch (format) {
        case Format::arc: read_arc(reader, ids, builder); break;
        case Format::lirs: read_lirs(reader, ids, builder); break;
        case Format::adaptsize: read_adaptsize(reader, ids, builder); break;
        case Format::keys: read_keys(reader, ids, builder); break;
        case Format::access_log:
          read_access_log(reader, ids, builder, trace.skipped_lines);
          break;
        default: break;
      }
      break;
    }
  }

  if (trace.keys.empty()) {
    const std::string skipped =
        trace.skipped_lines == 0
            ? std::string()
            : fmt::format(" ({} lines were skipped: they are not GET requests with status 200)",
                          trace.skipped_lines);
    throw InputError(fmt::format(
        "trace file '{}' has no requests in the {} format{}; check the file and --format", source,
        format_name(format), skipped));
  }
  trace.key_count = ids.count();
  trace.distinct_keys = ids.count();
  return trace;
}

}  // namespace viewcache::sim
