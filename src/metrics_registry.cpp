#include "metrics_registry.hpp"

#include "viewcache/metrics.hpp"

namespace viewcache {

std::string_view to_string(CacheEventKind kind) noexcept {
  switch (kind) {
    case CacheEventKind::store:
      return "store";
    case CacheEventKind::refusal:
      return "refusal";
    case CacheEventKind::render_error:
      return "render_error";
    case CacheEventKind::wait_timeout:
      return "wait_timeout";
    case CacheEventKind::bypass:
      return "bypass";
    case CacheEventKind::warm_failure:
      return "warm_failure";
    case CacheEventKind::leak:
      return "leak";
  }
  return "unknown";
}

std::string_view to_label(Audience audience) noexcept {
  return audience == Audience::signed_in ? "auth" : "anon";
}

namespace detail {

namespace {

constexpr std::string_view default_route_name = "default";

// FNV-1a, 64-bit. Route names are a few bytes long, where it is as fast as
// any hash, and they are chosen by the application, not by clients.
constexpr std::uint64_t hash_name(std::string_view name) noexcept {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : name) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

}  // namespace

std::string exception_message(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& exception) {
    return exception.what();
  } catch (...) {
    return "unknown exception";
  }
}

Metrics::Metrics(std::function<void(const CacheEvent&)> on_event)
    : on_event_(std::move(on_event)) {}

std::size_t Metrics::probe(std::string_view name, std::uint64_t hash) const noexcept {
  std::size_t i = hash % slot_count;
  for (;; i = (i + 1) % slot_count) {
    const RouteCounters* const found = slots_[i].load(std::memory_order_acquire);
    if (found == nullptr || (found->hash == hash && found->name == name)) {
      return i;
    }
  }
}

RouteCounters& Metrics::route(std::string_view name) {
  if (name.empty()) {
    name = default_route_name;
  }
  const std::uint64_t hash = hash_name(name);

  if (RouteCounters* const found = slots_[probe(name, hash)].load(std::memory_order_acquire)) {
    return *found;
  }
  return insert(name, hash);
}

RouteCounters& Metrics::insert(std::string_view name, std::uint64_t hash) {
  std::lock_guard lock(insert_mutex_);

  // Probe again under the lock: another thread may have inserted the name
  // since this one found an empty slot.
  const std::size_t slot = probe(name, hash);
  if (RouteCounters* const found = slots_[slot].load(std::memory_order_acquire)) {
    return *found;
  }

  // Past max_routes, names share one entry instead of filling the table.
  // They are not put into a slot, so each of their calls takes this mutex.
  // An application route that is itself called "other" takes them, so no
  // series appears twice in the output.
  if (routes_.size() >= max_routes) {
    const std::uint64_t overflow_hash = hash_name(overflow_route_name);
    const std::size_t overflow_slot = probe(overflow_route_name, overflow_hash);
    if (RouteCounters* const found = slots_[overflow_slot].load(std::memory_order_acquire)) {
      return *found;
    }
    if (overflow_ == nullptr) {
      overflow_ = std::make_unique<RouteCounters>(std::string{overflow_route_name}, overflow_hash);
    }
    return *overflow_;
  }

  auto& created = routes_.emplace_back(std::make_unique<RouteCounters>(std::string{name}, hash));
  slots_[slot].store(created.get(), std::memory_order_release);
  return *created;
}

void Metrics::for_each_route(const std::function<void(const RouteCounters&)>& function) const {
  std::lock_guard lock(insert_mutex_);
  for (const auto& route : routes_) {
    function(*route);
  }
  if (overflow_ != nullptr) {
    function(*overflow_);
  }
}

void Metrics::emit(const CacheEvent& event) const noexcept {
  if (!on_event_) {
    return;
  }
  try {
    on_event_(event);
  } catch (...) {
    // The hook's contract forbids throwing, and the request must not fail
    // because of the hook, so the exception is only counted.
    event_hook_errors.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace detail
}  // namespace viewcache
