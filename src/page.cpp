#include "viewcache/page.hpp"

#include "ascii.hpp"

namespace viewcache {

std::string_view Page::header(std::string_view name) const noexcept {
  for (const Header& header : headers) {
    if (detail::iequals(header.name, name)) {
      return header.value;
    }
  }
  return {};
}

bool Page::has_header(std::string_view name) const noexcept {
  for (const Header& header : headers) {
    if (detail::iequals(header.name, name)) {
      return true;
    }
  }
  return false;
}

std::size_t Page::byte_size() const noexcept {
  std::size_t bytes = sizeof(Page) + body.size() + headers.size() * sizeof(Header);
  for (const Header& header : headers) {
    bytes += header.name.size() + header.value.size();
  }
  bytes += tags.size() * sizeof(std::string);
  for (const std::string& tag : tags) {
    bytes += tag.size();
  }
  return bytes;
}

}  // namespace viewcache
