#include "viewcache/page_cache.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "viewcache/auth_aware_key_policy.hpp"

namespace viewcache {
namespace {

bool is_lookup_method(std::string_view method) noexcept {
  return method == "GET" || method == "HEAD";
}

}  // namespace

std::string CacheResult::cache_status() const {
  switch (outcome) {
    case CacheOutcome::hit:
      // Rounded up, so a page with 0.4 s of freshness left is not reported
      // as already stale.
      return fmt::format("viewcache; hit; ttl={}", std::chrono::ceil<std::chrono::seconds>(ttl).count());
    case CacheOutcome::miss_stored:
      return "viewcache; fwd=miss; stored";
    case CacheOutcome::miss_not_stored:
      return fmt::format("viewcache; fwd=miss; fwd-status={}; detail={}", page->status,
                         to_string(decision));
    case CacheOutcome::bypass_method:
      return fmt::format("viewcache; fwd=method; fwd-status={}", page->status);
    case CacheOutcome::bypass_key:
      return fmt::format("viewcache; fwd=bypass; fwd-status={}; detail={}", page->status,
                         to_string(key_status));
  }
  return "viewcache";
}

PageCache::PageCache(std::shared_ptr<Store> store,
                     std::shared_ptr<const CacheKeyPolicy> default_policy)
    : store_(std::move(store)), default_policy_(std::move(default_policy)) {
  if (store_ == nullptr) {
    throw std::invalid_argument("PageCache: store is nullptr; pass a store such as "
                                "std::make_shared<viewcache::MemoryStore>()");
  }
  if (default_policy_ == nullptr) {
    default_policy_ = std::make_shared<const AuthAwareKeyPolicy>();
  }
}

const CacheKeyPolicy& PageCache::policy_for(const CacheOptions& options) const noexcept {
  return options.key_policy != nullptr ? *options.key_policy : *default_policy_;
}

PageCache::Lookup PageCache::look_up(const Request& request, const CacheOptions& options) const {
  Lookup lookup;
  if (!is_lookup_method(request.method)) {
    lookup.result.outcome = CacheOutcome::bypass_method;
    return lookup;
  }

  const KeyStatus status = policy_for(options).append_key(request, lookup.key);
  if (status != KeyStatus::ok) {
    lookup.key.clear();
    lookup.result.outcome = CacheOutcome::bypass_key;
    lookup.result.key_status = status;
    return lookup;
  }

  if (Store::Hit hit = store_->get(lookup.key.view())) {
    lookup.result.outcome = CacheOutcome::hit;
    lookup.result.page = std::move(hit.page);
    lookup.result.ttl = hit.ttl_left;
  }
  return lookup;
}

CacheResult PageCache::store_rendered(const Request& request, const CacheOptions& options,
                                      const Lookup& lookup,
                                      std::shared_ptr<const Page> page) const {
  CacheResult result = lookup.result;
  result.page = std::move(page);
  if (lookup.key.empty()) {
    return result;
  }

  result.outcome = CacheOutcome::miss_not_stored;
  result.decision = decide_storage(request, *result.page);
  if (result.decision == StoreDecision::store && options.ttl.count() <= 0) {
    result.decision = StoreDecision::refuse_ttl;
  }
  if (result.decision != StoreDecision::store) {
    return result;
  }

  if (!store_->put(lookup.key.view(), result.page, options.ttl)) {
    result.decision = StoreDecision::store_declined;
    return result;
  }
  result.outcome = CacheOutcome::miss_stored;
  result.ttl = options.ttl;
  return result;
}

bool PageCache::invalidate(const Request& request, const CacheOptions& options) {
  KeyBuffer key;
  if (policy_for(options).append_key(request, key) != KeyStatus::ok) {
    return false;
  }
  return store_->erase(key.view());
}

}  // namespace viewcache
