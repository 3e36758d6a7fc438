// Serves one page twice through an installed viewcache and checks that the
// second request is a hit under the documented key.
#include <viewcache/viewcache.hpp>

#include <cstdio>
#include <memory>

int main() {
  viewcache::PageCache cache{std::make_shared<viewcache::MemoryStore>()};
  const viewcache::Request request{.path = "/home"};
  const auto render = [] { return viewcache::Page{.body = "hello"}; };

  const auto first = cache.cached(request, {}, render);
  const auto second = cache.cached(request, {}, render);
  const bool stored = cache.store().get("view//home/anon").page != nullptr;

  std::printf("viewcache %s: %s / %s\n", viewcache::version, first.cache_status().c_str(),
              second.cache_status().c_str());
  return (!first.hit() && second.hit() && stored) ? 0 : 1;
}
