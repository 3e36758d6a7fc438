#pragma once

// Pages for store tests.

#include <memory>
#include <string>

#include "viewcache/page.hpp"

namespace viewcache::test {

// Returns a page whose body is body and whose other fields are defaults.
inline std::shared_ptr<const Page> page_of(std::string body) {
  auto page = std::make_shared<Page>();
  page->body = std::move(body);
  return page;
}

}  // namespace viewcache::test
