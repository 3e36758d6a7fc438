// PageCache::warm(): storing pages ahead of traffic.

#include <stdexcept>
#include <string>

#include "metrics_registry.hpp"
#include "viewcache/page_cache.hpp"

namespace viewcache {

std::size_t PageCache::warm(std::span<const WarmRequest> requests) {
  std::size_t stored = 0;
  for (const WarmRequest& entry : requests) {
    std::string message;
    try {
      if (!entry.render) {
        throw std::invalid_argument("WarmRequest::render is empty. Set a render function for the entry.");
      }
      const CacheResult result = cached(entry.request, entry.options, entry.render);
      if (result.outcome == CacheOutcome::miss_stored) {
        ++stored;
      }
      continue;
    } catch (const std::exception& error) {
      message = error.what();
    } catch (...) {
      message = "unknown exception";
    }

    // One bad entry must not keep the others out of the cache.
    metrics_->warm_failures.fetch_add(1, std::memory_order_relaxed);
    metrics_->emit({.kind = CacheEventKind::warm_failure,
                    .route = metrics_->route(entry.options.route).name,
                    .audience = entry.request.viewer.audience,
                    .message = message});
  }
  return stored;
}

}  // namespace viewcache
