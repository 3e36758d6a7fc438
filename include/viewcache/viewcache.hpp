#pragma once

// The whole public API of viewcache. Include the single headers instead to
// shorten build times.

#include "viewcache/auth_aware_key_policy.hpp"
#include "viewcache/cache_event.hpp"
#include "viewcache/cacheability.hpp"
#include "viewcache/clock.hpp"
#include "viewcache/key_policy.hpp"
#include "viewcache/memory_store.hpp"
#include "viewcache/metrics.hpp"
#include "viewcache/page.hpp"
#include "viewcache/page_cache.hpp"
#include "viewcache/request.hpp"
#include "viewcache/store.hpp"
#include "viewcache/version.hpp"
