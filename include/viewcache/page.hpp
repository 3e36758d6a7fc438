#pragma once

// Page: a rendered HTTP response, as render callbacks return it and as the
// store keeps it. A stored page is immutable and shared: a cache hit hands out
// a std::shared_ptr<const Page>, so serving a hit copies no body.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace viewcache {

struct Header {
  std::string name;
  std::string value;
};

struct Page {
  int status = 200;
  std::vector<Header> headers;
  std::string body;

  // Invalidation tags, such as "course:1": PageCache::invalidate_tag() drops
  // every stored page that carries the tag. Not an HTTP header, and never sent.
  std::vector<std::string> tags;

  // Returns the value of the first header called name (compared without
  // regard to ASCII case), or an empty view when there is none. The view is
  // valid while the page is alive and its headers are not modified.
  [[nodiscard]] std::string_view header(std::string_view name) const noexcept;

  // Returns true when at least one header is called name (ASCII case-insensitive).
  [[nodiscard]] bool has_header(std::string_view name) const noexcept;

  // Returns the bytes this page occupies in a store: body, header names and
  // values, tags, and the fixed size of the object. The store's byte budget charges
  // this figure.
  [[nodiscard]] std::size_t byte_size() const noexcept;
};

}  // namespace viewcache
