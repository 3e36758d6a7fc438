#include "policy.hpp"

namespace viewcache::sim {

std::optional<PolicyKind> parse_policy(std::string_view name) noexcept {
  constexpr PolicyKind kinds[] = {PolicyKind::viewcache, PolicyKind::lru, PolicyKind::arc,
                                  PolicyKind::opt, PolicyKind::caffeine};
  for (std::size_t i = 0; i < std::size(kinds); ++i) {
    if (policy_names[i] == name) {
      return kinds[i];
    }
  }
  return std::nullopt;
}

std::string_view policy_name(PolicyKind policy) noexcept {
  return policy_names[static_cast<std::size_t>(policy)];
}

}  // namespace viewcache::sim
