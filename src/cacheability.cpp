#include "viewcache/cacheability.hpp"

#include "ascii.hpp"

namespace viewcache {
namespace {

// Returns the directive at the start of text and advances text past it and the
// comma that ends it. A quoted argument may contain commas (RFC 9110 section
// 5.6.4), so the scan tracks quotes and backslash escapes.
std::string_view next_directive_name(std::string_view& text) noexcept {
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

  std::string_view directive = text.substr(0, end);
  text.remove_prefix(end < text.size() ? end + 1 : text.size());

  const std::size_t equals = directive.find('=');
  return detail::trim(directive.substr(0, equals));
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
    if (detail::iequals(next_directive_name(cache_control), directive)) {
      return true;
    }
  }
  return false;
}

StoreDecision decide_storage(const Request& request, const Page& page) noexcept {
  if (request.method != "GET") {
    return StoreDecision::refuse_method;
  }
  if (page.status != 200) {
    return StoreDecision::refuse_status;
  }

  // A response may repeat a header, so every instance is checked.
  for (const Header& header : page.headers) {
    if (detail::iequals(header.name, "Set-Cookie")) {
      return StoreDecision::refuse_set_cookie;
    }
    if (detail::iequals(header.name, "Cache-Control") &&
        (has_cache_control_directive(header.value, "private") ||
         has_cache_control_directive(header.value, "no-store"))) {
      return StoreDecision::refuse_cache_control;
    }
  }
  return StoreDecision::store;
}

}  // namespace viewcache
