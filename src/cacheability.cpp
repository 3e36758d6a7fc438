#include "viewcache/cacheability.hpp"

#include <algorithm>
#include <charconv>

#include "ascii.hpp"

namespace viewcache {
namespace {

// One Cache-Control directive: its name and its argument, unquoted only in
// the sense that surrounding quotes are dropped.
struct Directive {
  std::string_view name;
  std::string_view argument;
};

// Returns the directive at the start of text and advances text past it and the
// comma that ends it. A quoted argument may contain commas (RFC 9110 section
// 5.6.4), so the scan tracks quotes and backslash escapes.
Directive next_directive(std::string_view& text) noexcept {
  std::size_t end = 0;
  bool in_quotes = false;
  for (; end < text.size(); ++end) {
    const char c = text[end];
    if (in_quotes && c == '\\') {
      ++end;
    } else if (c == '"') {
      in_quotes = !in_quotes;
    } else if (c == ',' && !in_quotes) {
      break;
    }
  }

  const std::string_view directive = text.substr(0, std::min(end, text.size()));
  text.remove_prefix(end < text.size() ? end + 1 : text.size());

  const std::size_t equals = directive.find('=');
  if (equals == std::string_view::npos) {
    return {detail::trim(directive), {}};
  }
  std::string_view argument = detail::trim(directive.substr(equals + 1));
  if (argument.size() >= 2 && argument.front() == '"' && argument.back() == '"') {
    argument = argument.substr(1, argument.size() - 2);
  }
  return {detail::trim(directive.substr(0, equals)), argument};
}

// Calls visit(value) for every field of page called name.
template <typename Visit>
void for_each_field(const Page& page, std::string_view name, Visit visit) {
  for (const Header& header : page.headers) {
    if (detail::iequals(header.name, name)) {
      visit(std::string_view{header.value});
    }
  }
}

bool any_cache_control(const Page& page, std::string_view directive) noexcept {
  bool found = false;
  for_each_field(page, "Cache-Control", [&](std::string_view value) {
    found = found || has_cache_control_directive(value, directive);
  });
  return found;
}

// Returns true when every header the Vary fields name is covered.
bool vary_is_covered(const Page& page, const std::vector<std::string>& covered) noexcept {
  bool ok = true;
  for_each_field(page, "Vary", [&](std::string_view value) {
    while (ok && !value.empty()) {
      const std::size_t comma = value.find(',');
      const std::string_view name = detail::trim(value.substr(0, comma));
      value.remove_prefix(comma == std::string_view::npos ? value.size() : comma + 1);
      if (name.empty()) {
        continue;
      }
      // "*" is covered only when the route lists "*" itself.
      ok = std::any_of(covered.begin(), covered.end(), [&](const std::string& header) {
        return detail::iequals(header, name);
      });
    }
  });
  return ok;
}

const StatusTtl* find_status(const StorageRules& rules, int status) noexcept {
  for (const StatusTtl& entry : rules.extra_statuses) {
    if (entry.status == status) {
      return &entry;
    }
  }
  return nullptr;
}

}  // namespace

std::string_view to_string(StoreDecision decision) noexcept {
  switch (decision) {
    case StoreDecision::store:
      return "store";
    case StoreDecision::refuse_method:
      return "method";
    case StoreDecision::refuse_status:
      return "status";
    case StoreDecision::refuse_set_cookie:
      return "set-cookie";
    case StoreDecision::refuse_cache_control:
      return "cache-control";
    case StoreDecision::refuse_vary:
      return "vary";
    case StoreDecision::refuse_authorization:
      return "authorization";
    case StoreDecision::refuse_size:
      return "size";
    case StoreDecision::refuse_ttl:
      return "ttl";
    case StoreDecision::store_declined:
      return "store-declined";
    case StoreDecision::invalidated:
      return "invalidated";
    case StoreDecision::wait_timed_out:
      return "wait-timeout";
  }
  return "unknown";
}

bool has_cache_control_directive(std::string_view cache_control,
                                 std::string_view directive) noexcept {
  while (!cache_control.empty()) {
    if (detail::iequals(next_directive(cache_control).name, directive)) {
      return true;
    }
  }
  return false;
}

std::optional<std::int64_t> cache_control_seconds(std::string_view cache_control,
                                                  std::string_view directive) noexcept {
  while (!cache_control.empty()) {
    const Directive found = next_directive(cache_control);
    if (!detail::iequals(found.name, directive)) {
      continue;
    }
    std::int64_t seconds = 0;
    const char* end = found.argument.data() + found.argument.size();
    const auto [position, error] = std::from_chars(found.argument.data(), end, seconds);
    if (found.argument.empty() || position != end || error == std::errc::invalid_argument ||
        seconds < 0) {
      return std::nullopt;
    }
    // RFC 9111 section 1.2.2: a delta-seconds larger than 2^31 counts as 2^31.
    constexpr std::int64_t max_delta_seconds = std::int64_t{1} << 31;
    if (error == std::errc::result_out_of_range || seconds > max_delta_seconds) {
      return max_delta_seconds;
    }
    return seconds;
  }
  return std::nullopt;
}

std::chrono::milliseconds storage_ttl(const Page& page, const StorageRules& rules,
                                      std::chrono::milliseconds route_ttl) noexcept {
  if (rules.ttl_from_response) {
    // s-maxage applies to shared caches and wins over max-age.
    for (const std::string_view directive : {"s-maxage", "max-age"}) {
      std::optional<std::int64_t> seconds;
      for_each_field(page, "Cache-Control", [&](std::string_view value) {
        if (!seconds) seconds = cache_control_seconds(value, directive);
      });
      if (seconds) {
        return std::chrono::seconds{*seconds};
      }
    }
  }
  if (page.status != 200) {
    if (const StatusTtl* entry = find_status(rules, page.status)) {
      return entry->ttl;
    }
  }
  return route_ttl;
}

StoreDecision decide_storage(const Request& request, const Page& page,
                             const StorageRules& rules) noexcept {
  if (request.method != "GET" &&
      std::find(rules.extra_methods.begin(), rules.extra_methods.end(), request.method) ==
          rules.extra_methods.end()) {
    return StoreDecision::refuse_method;
  }
  if (page.status != 200 && find_status(rules, page.status) == nullptr) {
    return StoreDecision::refuse_status;
  }
  if (page.has_header("Set-Cookie") && !rules.strip_set_cookie) {
    return StoreDecision::refuse_set_cookie;
  }
  if ((any_cache_control(page, "private") && !rules.allow_private) ||
      (any_cache_control(page, "no-store") && !rules.allow_no_store) ||
      (any_cache_control(page, "no-cache") && !rules.allow_no_cache)) {
    return StoreDecision::refuse_cache_control;
  }
  if (!vary_is_covered(page, rules.covered_vary_headers)) {
    return StoreDecision::refuse_vary;
  }
  if (request.has_authorization && !rules.allow_authorization &&
      !any_cache_control(page, "public") &&
      !any_cache_control(page, "s-maxage")) {
    return StoreDecision::refuse_authorization;
  }
  if (page.body.size() > rules.max_body_bytes) {
    return StoreDecision::refuse_size;
  }
  return StoreDecision::store;
}

}  // namespace viewcache
