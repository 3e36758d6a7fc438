#include "viewcache/auth_aware_key_policy.hpp"

#include <boost/container/small_vector.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "digest.hpp"
#include "key_encoding.hpp"

namespace viewcache {
namespace {

constexpr std::string_view key_prefix = "view/";
constexpr std::size_t min_secret_bytes = 16;
constexpr std::size_t user_digest_bytes = 16;  // 128 of HMAC-SHA-256's 256 bits
constexpr char digest_marker = '#';             // never appears in a key otherwise

// One query parameter, as offsets into the buffer its canonical form is in.
struct Parameter {
  std::uint32_t name_begin = 0;
  std::uint32_t name_end = 0;
  std::uint32_t value_end = 0;  // == name_end when the parameter has no '='
  std::uint32_t position = 0;   // order received, for a stable sort

  // The name's first eight bytes, big-endian and zero-padded, so comparing
  // two prefixes as integers orders names as comparing their bytes does. A
  // canonical name has no zero byte (NUL is escaped), so the padding cannot
  // tie with a real byte.
  std::uint64_t prefix = 0;
};

std::uint64_t name_prefix(std::string_view name) noexcept {
  const std::size_t count = std::min<std::size_t>(name.size(), 8);
  if (count == 0) {
    return 0;
  }
  std::uint64_t prefix = 0;
  for (std::size_t i = 0; i < count; ++i) {
    prefix = prefix << 8U | static_cast<unsigned char>(name[i]);
  }
  return prefix << (8 * (8 - count));
}

// Typical queries have a few parameters; more spill to the heap.
using Parameters = boost::container::small_vector<Parameter, 16>;

void validate_globs(const std::vector<std::string>& patterns, std::string_view option) {
  for (const std::string& pattern : patterns) {
    if (const std::string_view error = detail::glob_error(pattern); !error.empty()) {
      throw std::invalid_argument(fmt::format(
          "AuthAwareKeyPolicy: {} pattern \"{}\" is invalid because {}; use '*', '?', "
          "\"[a-z]\" and '\\' escapes, such as \"utm_*\"",
          option, pattern, error));
    }
  }
}

bool is_vary_name(std::string_view name) noexcept {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

void validate(const AuthAwareKeyPolicy::Options& options) {
  if (options.vary_by == VariantScope::user && options.user_secret.size() < min_secret_bytes) {
    throw std::invalid_argument(fmt::format(
        "AuthAwareKeyPolicy: user_secret has {} bytes but vary_by is VariantScope::user, which "
        "needs at least {}; set it to a random secret from your configuration, such as the "
        "output of `openssl rand -hex 32`",
        options.user_secret.size(), min_secret_bytes));
  }
  if (options.max_key_bytes < AuthAwareKeyPolicy::min_key_bytes) {
    throw std::invalid_argument(fmt::format(
        "AuthAwareKeyPolicy: max_key_bytes is {}, too small for the prefix and the 64-digit "
        "digest of a long key; use at least {}, such as 250 for memcached",
        options.max_key_bytes, AuthAwareKeyPolicy::min_key_bytes));
  }

  for (std::size_t i = 0; i < options.vary.size(); ++i) {
    const std::string& name = options.vary[i];
    if (!is_vary_name(name)) {
      throw std::invalid_argument(fmt::format(
          "AuthAwareKeyPolicy: vary name \"{}\" is invalid; use lowercase letters, digits, "
          "'_' and '-', such as \"locale\"",
          name));
    }
    if (std::find(options.vary.begin(), options.vary.begin() + static_cast<std::ptrdiff_t>(i),
                  name) != options.vary.begin() + static_cast<std::ptrdiff_t>(i)) {
      throw std::invalid_argument(fmt::format(
          "AuthAwareKeyPolicy: vary name \"{}\" is listed twice; list each dimension once", name));
    }
  }

  const QueryMode mode = options.query.mode;
  if (mode == QueryMode::raw && (!options.query.ignore.empty() || options.query.allow)) {
    throw std::invalid_argument(
        "AuthAwareKeyPolicy: query.ignore and query.allow need QueryMode::sorted, but "
        "query.mode is QueryMode::raw; remove the lists or use QueryMode::sorted");
  }
  validate_globs(options.query.ignore, "query.ignore");
  if (options.query.allow) {
    validate_globs(*options.query.allow, "query.allow");
  }
}

std::optional<std::string_view> find_vary_value(const Request& request,
                                                std::string_view name) noexcept {
  for (const VaryValue& value : request.vary) {
    if (value.name == name) {
      return value.value;
    }
  }
  return std::nullopt;
}

// Returns true when the ignore and allow lists of query keep the parameter
// named canonical_name.
bool keeps_parameter(const AuthAwareKeyPolicy::QueryOptions& query,
                     std::string_view canonical_name) noexcept {
  const auto matches = [canonical_name](const std::string& pattern) {
    return detail::glob_match(pattern, canonical_name);
  };
  if (std::any_of(query.ignore.begin(), query.ignore.end(), matches)) {
    return false;
  }
  return !query.allow || std::any_of(query.allow->begin(), query.allow->end(), matches);
}

bool names_in_order(const Parameter& previous, const Parameter& next, const char* bytes) noexcept {
  if (previous.prefix != next.prefix) {
    return previous.prefix < next.prefix;
  }
  const std::string_view previous_name{bytes + previous.name_begin,
                                       previous.name_end - previous.name_begin};
  return previous_name <= std::string_view{bytes + next.name_begin, next.name_end - next.name_begin};
}

// Appends to parameters the one whose name is [name, name_end) and whose
// value ends at end, all pointers into the bytes of a KeyBuffer, and clears
// sorted when its name sorts before the previous one's.
void record_parameter(const char* bytes, const char* name, const char* name_end, const char* end,
                      Parameters& parameters, bool& sorted) {
  const auto offset = [bytes](const char* at) { return static_cast<std::uint32_t>(at - bytes); };
  const Parameter parameter{offset(name), offset(name_end), offset(end),
                            static_cast<std::uint32_t>(parameters.size()),
                            name_prefix({name, static_cast<std::size_t>(name_end - name)})};
  if (sorted && !parameters.empty()) {
    sorted = names_in_order(parameters.back(), parameter, bytes);
  }
  parameters.push_back(parameter);
}

// Appends the parameters of a sorted-mode query in canonical form, in the
// order received and separated by '&', leaving out empty parameters and those
// the ignore and allow lists drop. Records each in parameters and clears
// sorted when two are out of order. Returns false for an invalid query.
//
// One scan finds the delimiters and the bytes to escape at once. Writing goes
// through a pointer into space reserved for the longest result: the bound of
// max_canonical_bytes(), plus the '&' written after every parameter and
// removed after the last. The query is first copied whole. Until a byte is rewritten or
// left out (in_place), out contains the bytes still to read at their final
// place, so runs need no copy.
bool write_parameters(std::string_view query, const AuthAwareKeyPolicy::QueryOptions& options,
                      const detail::ComponentRules& rules, KeyBuffer& out, Parameters& parameters,
                      bool& sorted) {
  const bool filters = !options.ignore.empty() || options.allow.has_value();
  const detail::StopSet& stop_set =
      options.plus_is_space ? detail::query_plus_split_stops : detail::query_split_stops;
  const std::size_t begin = out.size();
  const std::size_t room = detail::inline_room(out);
  char* const first =
      out.extend(detail::max_canonical_bytes(query, rules, room > 0 ? room - 1 : 0) + 1);
  const char* const bytes = out.view().data();
  detail::copy_bytes(first, query.data(), query.size());
  bool in_place = true;
  detail::StopFinder stops(query, stop_set);

  char* write = first;
  std::size_t read = 0;              // the next byte of query to write
  std::size_t parameter_read = 0;    // where the current parameter starts in query
  char* name = first;                // where its name starts in out
  const char* name_end = nullptr;    // set when the name is written
  bool valid = true;
  while (true) {
    std::size_t stop = stops.next(read);
    write = in_place ? write + (stop - read) : detail::copy_run(query, read, stop, rules, write);
    const char delimiter = stop < query.size() ? query[stop] : '&';  // the end ends a parameter
    if (delimiter != '&' && delimiter != '=') {
      in_place = false;
      read = detail::encode_stop(query, stop, rules, write);
      if (read == std::string_view::npos) {
        valid = false;
        break;
      }
      continue;
    }
    if (delimiter == '=' && name_end != nullptr) {
      *write++ = '=';  // a value may contain '=': only the first one ends the name
      read = stop + 1;
      continue;
    }

    if (name_end == nullptr) {
      const std::string_view canonical_name{name, static_cast<std::size_t>(write - name)};
      if (delimiter == '&' && stop == parameter_read) {
        in_place = false;  // "a=1&&b=2" has the same parameters as "a=1&b=2"
      } else if (filters && !keeps_parameter(options, canonical_name)) {
        // The value of a dropped parameter is not read, so it cannot make
        // the query invalid.
        in_place = false;
        write = name;
        stop = std::min(query.find('&', stop), query.size());
      } else if (delimiter == '=') {
        name_end = write;
        *write++ = '=';
        read = stop + 1;
        continue;
      } else {
        name_end = write;
      }
    }
    if (name_end != nullptr) {
      record_parameter(bytes, name, name_end, write, parameters, sorted);
      *write++ = '&';
    }

    if (stop >= query.size()) {
      break;
    }
    read = parameter_read = stop + 1;
    name = write;
    name_end = nullptr;
  }
  if (valid && !parameters.empty()) {
    --write;  // the '&' after the last parameter
  }
  out.truncate(begin + static_cast<std::size_t>(write - first));
  return valid;
}

// Sorts parameters by name, then by position, which makes the sort stable.
// source + offset - query_begin is the byte at an offset into out.
void sort_parameters(Parameters& parameters, const char* source, std::size_t query_begin) {
  const auto less = [source, query_begin](const Parameter& a, const Parameter& b) {
    if (a.prefix != b.prefix) {
      return a.prefix < b.prefix;
    }
    const std::string_view a_name{source + (a.name_begin - query_begin), a.name_end - a.name_begin};
    const std::string_view b_name{source + (b.name_begin - query_begin), b.name_end - b.name_begin};
    const int order = a_name.compare(b_name);
    return order < 0 || (order == 0 && a.position < b.position);
  };

  // Insertion sort for the few parameters of a typical query, which skips
  // the setup of std::sort.
  if (parameters.size() > 16) {
    std::sort(parameters.begin(), parameters.end(), less);
    return;
  }
  for (std::size_t i = 1; i < parameters.size(); ++i) {
    const Parameter parameter = parameters[i];
    std::size_t j = i;
    for (; j > 0 && less(parameter, parameters[j - 1]); --j) {
      parameters[j] = parameters[j - 1];
    }
    parameters[j] = parameter;
  }
}

// Rewrites the query at [query_begin, out.size()) with its parameters in
// order of name, then of position. The sorted query has the same length, so
// it is written over the old one, from a copy.
void write_sorted(Parameters& parameters, std::size_t query_begin, KeyBuffer& out) {
  const std::size_t query_bytes = out.size() - query_begin;
  // A query that fits is copied to the stack, so the common case allocates
  // nothing and sets up no container.
  std::array<char, 256> stack_copy;
  std::unique_ptr<char[]> heap_copy;
  if (query_bytes > stack_copy.size()) {
    heap_copy = std::make_unique_for_overwrite<char[]>(query_bytes);
  }
  char* const source = heap_copy ? heap_copy.get() : stack_copy.data();
  detail::copy_bytes(source, out.view().data() + query_begin, query_bytes);
  sort_parameters(parameters, source, query_begin);

  char* const first = out.data() + query_begin;
  char* write = first;
  for (const Parameter& parameter : parameters) {
    if (write != first) {
      *write++ = '&';
    }
    const std::size_t bytes = parameter.value_end - parameter.name_begin;
    detail::copy_bytes(write, source + (parameter.name_begin - query_begin), bytes);
    write += bytes;
  }
}

// Appends the parameters of a sorted-mode query, sorted, as write_parameters()
// and write_sorted() do, but reserves space for one name or value at a time,
// so that the parameters the ignore and allow lists drop take none. Returns
// false for an invalid query. It shares no helper that write_parameters()
// calls per parameter and is never inlined: either made GCC 12 call the
// helpers out of line there, and a typical key about 10% slower.
[[gnu::noinline]] bool append_filtered_parameters(std::string_view query,
                                                  const AuthAwareKeyPolicy::QueryOptions& options,
                                                  const detail::ComponentRules& rules,
                                                  KeyBuffer& out) {
  const std::size_t query_begin = out.size();
  Parameters parameters;
  std::string_view rest = query;
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view raw = rest.substr(0, amp);
    rest.remove_prefix(amp == std::string_view::npos ? rest.size() : amp + 1);
    if (raw.empty()) {
      continue;  // "a=1&&b=2" has the same parameters as "a=1&b=2"
    }

    const std::size_t start = out.size();
    if (!parameters.empty()) {
      out.push_back('&');
    }
    const std::size_t name_begin = out.size();
    const std::size_t equals = raw.find('=');
    if (!detail::append_canonical(raw.substr(0, equals), rules, out)) {
      return false;
    }
    const std::size_t name_end = out.size();
    if (!keeps_parameter(options, out.view().substr(name_begin, name_end - name_begin))) {
      out.truncate(start);
      continue;
    }

    if (equals != std::string_view::npos) {
      out.push_back('=');
      if (!detail::append_canonical(raw.substr(equals + 1), rules, out)) {
        return false;
      }
    }
    // The name is read again here, because appending the value may have
    // moved the buffer to the heap.
    const std::string_view name = out.view().substr(name_begin, name_end - name_begin);
    parameters.push_back({static_cast<std::uint32_t>(name_begin),
                          static_cast<std::uint32_t>(name_end),
                          static_cast<std::uint32_t>(out.size()),
                          static_cast<std::uint32_t>(parameters.size()), name_prefix(name)});
  }
  write_sorted(parameters, query_begin, out);  // the identity when they are in order
  return true;
}

// Replaces the key at [begin, out.size()), longer than max_bytes, by its first
// bytes, the marker and the hex SHA-256 of the whole key, so the result is
// exactly max_bytes long.
void shorten(KeyBuffer& out, std::size_t begin, std::size_t max_bytes) {
  const detail::Sha256 digest = detail::sha256(out.view().substr(begin));
  out.truncate(begin + max_bytes - 1 - 2 * detail::sha256_bytes);
  out.push_back(digest_marker);
  detail::append_hex(digest.data(), digest.size(), out);
}

}  // namespace

struct AuthAwareKeyPolicy::UserDigest {
  explicit UserDigest(std::string_view secret) : hmac(secret) {}
  detail::Hmac hmac;
};

std::optional<std::string> CacheKeyPolicy::key(const Request& request) const {
  KeyBuffer buffer;
  if (append_key(request, buffer) != KeyStatus::ok) {
    return std::nullopt;
  }
  return buffer.str();
}

KeyStatus CacheKeyPolicy::append_family(const Request& /*request*/, KeyBuffer& /*out*/) const {
  return KeyStatus::unsupported;
}

std::string_view to_string(KeyStatus status) noexcept {
  switch (status) {
    case KeyStatus::ok:
      return "ok";
    case KeyStatus::invalid_path:
      return "invalid-path";
    case KeyStatus::invalid_query:
      return "invalid-query";
    case KeyStatus::missing_user_id:
      return "missing-user-id";
    case KeyStatus::missing_role:
      return "missing-role";
    case KeyStatus::missing_vary_value:
      return "missing-vary-value";
    case KeyStatus::unsupported:
      return "unsupported";
  }
  return "unknown";
}

AuthAwareKeyPolicy::AuthAwareKeyPolicy() : AuthAwareKeyPolicy(Options{}) {}

AuthAwareKeyPolicy::AuthAwareKeyPolicy(Options options) : options_(std::move(options)) {
  validate(options_);

  // Sorted, so the order in which an application lists dimensions does not
  // change its keys.
  std::sort(options_.vary.begin(), options_.vary.end());

  if (options_.vary_by == VariantScope::user) {
    user_digest_ = std::make_unique<const UserDigest>(options_.user_secret);
  }
}

AuthAwareKeyPolicy::~AuthAwareKeyPolicy() = default;
AuthAwareKeyPolicy::AuthAwareKeyPolicy(AuthAwareKeyPolicy&&) noexcept = default;
AuthAwareKeyPolicy& AuthAwareKeyPolicy::operator=(AuthAwareKeyPolicy&&) noexcept = default;

KeyStatus AuthAwareKeyPolicy::append_key(const Request& request, KeyBuffer& out) const {
  const std::size_t begin = out.size();
  if (const KeyStatus status = append_path(request, out); status != KeyStatus::ok) {
    return status;
  }

  if (const KeyStatus status = append_variant(request, out); status != KeyStatus::ok) {
    return status;
  }

  if (const KeyStatus status = append_query(request, out); status != KeyStatus::ok) {
    return status;
  }

  if (out.size() - begin > options_.max_key_bytes) {
    shorten(out, begin, options_.max_key_bytes);
  }
  return KeyStatus::ok;
}

// The key's grammar puts no '/' in the variant, so "view/<path>/" is a prefix
// of the keys of that path only: "view//post/5/" is not a prefix of any key
// of /post/50, whose family is "view//post/50/".
KeyStatus AuthAwareKeyPolicy::append_family(const Request& request, KeyBuffer& out) const {
  const std::size_t begin = out.size();
  if (const KeyStatus status = append_path(request, out); status != KeyStatus::ok) {
    return status;
  }

  if (out.size() - begin > options_.max_key_bytes) {
    shorten(out, begin, options_.max_key_bytes);
  }
  return KeyStatus::ok;
}

KeyStatus AuthAwareKeyPolicy::append_path(const Request& request, KeyBuffer& out) const {
  const PathOptions& path = options_.path;
  const bool fold_lower = path.letter_case == PathCase::fold_lower;
  const detail::ComponentRules rules = request.path_form == PathForm::decoded
                                           ? detail::decoded_path_rules(fold_lower)
                                           : detail::received_path_rules(fold_lower);

  // The prefix, the path and the '/' after it are written through one
  // pointer, into space for the longest result. That is two bytes more than
  // the prefix and the longest canonical path, because an empty path becomes
  // "/".
  constexpr std::size_t extra_bytes = key_prefix.size() + 2;
  const std::size_t begin = out.size();
  const std::size_t room = detail::inline_room(out);
  char* const first = out.extend(
      extra_bytes +
      detail::max_canonical_bytes(request.path, rules, room > extra_bytes ? room - extra_bytes : 0));
  std::memcpy(first, key_prefix.data(), key_prefix.size());
  char* const path_begin = first + key_prefix.size();
  char* path_end = detail::write_canonical(request.path, rules, path_begin);
  if (path_end == nullptr) {
    out.truncate(begin);
    return KeyStatus::invalid_path;
  }

  // Only an absolute path (origin-form, RFC 9112 section 3.2.1) has dot
  // segments to resolve; anything else is keyed as received.
  if (path.remove_dot_segments && path_end > path_begin && *path_begin == '/') {
    path_end = path_begin + detail::remove_dot_segments(
                                path_begin, static_cast<std::size_t>(path_end - path_begin));
  }
  if (path.trailing_slash == TrailingSlash::strip) {
    while (path_end - path_begin > 1 && path_end[-1] == '/') {
      --path_end;
    }
  }

  // An empty path and "/" are the same resource for http and https
  // (RFC 3986 section 6.2.3).
  if (path_end == path_begin) {
    *path_end++ = '/';
  }
  *path_end++ = '/';
  out.truncate(begin + static_cast<std::size_t>(path_end - first));
  return KeyStatus::ok;
}

KeyStatus AuthAwareKeyPolicy::append_variant(const Request& request, KeyBuffer& out) const {
  const Viewer& viewer = request.viewer;
  if (viewer.audience == Audience::anonymous) {
    out.append("anon");
  } else if (options_.vary_by == VariantScope::audience) {
    out.append("auth");
  } else if (options_.vary_by == VariantScope::role) {
    if (viewer.role.empty()) {
      return KeyStatus::missing_role;
    }
    out.append("role-");
    detail::append_strict(viewer.role, out);
  } else {
    if (viewer.user_id.empty()) {
      return KeyStatus::missing_user_id;
    }
    const detail::Sha256 digest = user_digest_->hmac.sign(viewer.user_id);
    out.append("user-");
    detail::append_hex(digest.data(), user_digest_bytes, out);
  }

  for (const std::string& name : options_.vary) {
    const std::optional<std::string_view> value = find_vary_value(request, name);
    if (!value) {
      return KeyStatus::missing_vary_value;
    }
    out.push_back(';');
    out.append(name);
    out.push_back('=');
    detail::append_strict(*value, out);
  }
  return KeyStatus::ok;
}

KeyStatus AuthAwareKeyPolicy::append_query(const Request& request, KeyBuffer& out) const {
  const QueryOptions& query = options_.query;
  if (request.query.empty()) {
    return KeyStatus::ok;
  }

  const detail::ComponentRules rules = detail::query_rules(query.plus_is_space);
  out.push_back('?');
  if (query.mode == QueryMode::raw) {
    return detail::append_canonical(request.query, rules, out) ? KeyStatus::ok
                                                               : KeyStatus::invalid_query;
  }

  const std::size_t query_begin = out.size();
  const bool filters = !query.ignore.empty() || query.allow.has_value();
  bool valid = true;
  if (filters && 3 * request.query.size() + 1 > detail::inline_room(out)) {
    // Space reserved for parameters that the lists drop, such as long
    // tracking ids, could move out to the heap although the key fits inline.
    valid = append_filtered_parameters(request.query, query, rules, out);
  } else {
    // Parameters are written in canonical form straight after the '?', where
    // the ignore and allow lists see their canonical names. Only when they
    // are out of order is the region copied aside and written again, sorted.
    Parameters parameters;
    bool sorted = true;
    valid = write_parameters(request.query, query, rules, out, parameters, sorted);
    if (valid && !sorted) {
      write_sorted(parameters, query_begin, out);
    }
  }
  if (!valid) {
    return KeyStatus::invalid_query;
  }

  if (out.size() == query_begin) {
    out.truncate(query_begin - 1);  // no parameter kept: no '?'
  }
  return KeyStatus::ok;
}

}  // namespace viewcache
