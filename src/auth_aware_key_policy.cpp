#include "viewcache/auth_aware_key_policy.hpp"

#include <boost/container/small_vector.hpp>

#include <fmt/format.h>

#include <algorithm>
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
  std::uint64_t prefix = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    prefix <<= 8U;
    if (i < name.size()) {
      prefix |= static_cast<unsigned char>(name[i]);
    }
  }
  return prefix;
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

// Rewrites the query at [query_begin, out.size()) with its parameters in
// order of name, then of position, which makes the sort stable.
void write_sorted(Parameters& parameters, std::size_t query_begin, KeyBuffer& out) {
  KeyBuffer copy;
  copy.append(out.view().substr(query_begin));
  const std::string_view all = copy.view();
  const auto name_of = [all, query_begin](const Parameter& parameter) {
    return all.substr(parameter.name_begin - query_begin, parameter.name_end - parameter.name_begin);
  };
  std::sort(parameters.begin(), parameters.end(), [&](const Parameter& a, const Parameter& b) {
    if (a.prefix != b.prefix) {
      return a.prefix < b.prefix;
    }
    const int order = name_of(a).compare(name_of(b));
    return order < 0 || (order == 0 && a.position < b.position);
  });

  out.truncate(query_begin);
  for (const Parameter& parameter : parameters) {
    if (out.size() > query_begin) {
      out.push_back('&');
    }
    out.append(all.substr(parameter.name_begin - query_begin,
                          parameter.value_end - parameter.name_begin));
  }
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
  out.append(key_prefix);

  if (const KeyStatus status = append_path(request, out); status != KeyStatus::ok) {
    return status;
  }

  out.push_back('/');
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
  out.append(key_prefix);
  if (const KeyStatus status = append_path(request, out); status != KeyStatus::ok) {
    return status;
  }
  out.push_back('/');

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

  const std::size_t begin = out.size();
  if (!detail::append_canonical(request.path, rules, out)) {
    return KeyStatus::invalid_path;
  }
  // Only an absolute path (origin-form, RFC 9112 section 3.2.1) has dot
  // segments to resolve; anything else is keyed as received.
  if (path.remove_dot_segments && out.size() > begin && out.view()[begin] == '/') {
    detail::remove_dot_segments(out, begin);
  }
  if (path.trailing_slash == TrailingSlash::strip) {
    while (out.size() > begin + 1 && out.view().back() == '/') {
      out.truncate(out.size() - 1);
    }
  }

  // An empty path and "/" are the same resource for http and https
  // (RFC 3986 section 6.2.3).
  if (out.size() == begin) {
    out.push_back('/');
  }
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
  if (query.mode == QueryMode::raw) {
    out.push_back('?');
    return detail::append_canonical(request.query, rules, out) ? KeyStatus::ok
                                                               : KeyStatus::invalid_query;
  }

  // Parameters are written in canonical form straight after the '?', where
  // the ignore and allow lists see their canonical names. Only when they are
  // out of order is the region copied aside and written again, sorted.
  out.push_back('?');
  const std::size_t query_begin = out.size();
  const bool filters = !query.ignore.empty() || query.allow.has_value();
  Parameters parameters;
  bool sorted = true;
  std::string_view rest = request.query;
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
    const auto name_begin = static_cast<std::uint32_t>(out.size());
    const std::size_t equals = raw.find('=');
    if (!detail::append_canonical(raw.substr(0, equals), rules, out)) {
      return KeyStatus::invalid_query;
    }
    const auto name_end = static_cast<std::uint32_t>(out.size());
    const std::string_view name = out.view().substr(name_begin, name_end - name_begin);
    if (filters && !keeps_parameter(name)) {
      out.truncate(start);
      continue;
    }

    if (equals != std::string_view::npos) {
      out.push_back('=');
      if (!detail::append_canonical(raw.substr(equals + 1), rules, out)) {
        return KeyStatus::invalid_query;
      }
    }
    // Views into out are taken again here, because appending the value may
    // have moved the buffer to the heap.
    const std::string_view all = out.view();
    const Parameter parameter{name_begin, name_end, static_cast<std::uint32_t>(out.size()),
                              static_cast<std::uint32_t>(parameters.size()),
                              name_prefix(all.substr(name_begin, name_end - name_begin))};
    if (sorted && !parameters.empty()) {
      const Parameter& previous = parameters.back();
      sorted = previous.prefix < parameter.prefix ||
               (previous.prefix == parameter.prefix &&
                all.substr(previous.name_begin, previous.name_end - previous.name_begin) <=
                    all.substr(name_begin, name_end - name_begin));
    }
    parameters.push_back(parameter);
  }

  if (parameters.empty()) {
    out.truncate(query_begin - 1);  // no parameter kept: no '?'
    return KeyStatus::ok;
  }
  if (!sorted) {
    write_sorted(parameters, query_begin, out);
  }
  return KeyStatus::ok;
}

bool AuthAwareKeyPolicy::keeps_parameter(std::string_view canonical_name) const noexcept {
  const QueryOptions& query = options_.query;
  const auto matches = [canonical_name](const std::string& pattern) {
    return detail::glob_match(pattern, canonical_name);
  };
  if (std::any_of(query.ignore.begin(), query.ignore.end(), matches)) {
    return false;
  }
  return !query.allow || std::any_of(query.allow->begin(), query.allow->end(), matches);
}

}  // namespace viewcache
