#include "eviction/w_tinylfu.hpp"

#include "mix.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace viewcache::detail {
namespace {

constexpr double initial_window_fraction = 0.01;   // Caffeine's starting point
constexpr double protected_fraction = 0.80;        // of the main space
constexpr double climber_step_fraction = 0.03;     // first step: 3% of capacity
constexpr double climber_step_decay = 0.98;        // each step shrinks by 2%
constexpr double climber_restart_change = 0.05;    // a hit-ratio jump this big restarts
constexpr unsigned max_counter = 15;
constexpr std::uint64_t halve_mask = 0x7777777777777777ULL;


}  // namespace

FrequencySketch::FrequencySketch(std::size_t expected_entries) { ensure_capacity(expected_entries); }

void FrequencySketch::ensure_capacity(std::size_t expected_entries) {
  const std::size_t words = std::bit_ceil(std::max<std::size_t>(expected_entries, 16));
  if (words <= table_.size()) {
    return;
  }
  // A counter's word is its hash masked by the table size, so in a table
  // twice as large it sits at the same index or that index plus the old size.
  // Copying the old table into every part of the new one keeps every
  // estimate, where clearing it would forget the popular keys.
  std::vector<std::uint64_t> grown(words, 0);
  for (std::size_t i = 0; i < words && !table_.empty(); ++i) {
    grown[i] = table_[i & mask_];
  }
  table_ = std::move(grown);
  mask_ = words - 1;
  sample_size_ = 10 * words;
}

// Each of the four rows picks a word and one of its sixteen 4-bit counters
// from its own part of a remixed hash.
void FrequencySketch::increment(std::uint64_t hash) noexcept {
  bool added = false;
  for (std::uint64_t row = 0; row < 4; ++row) {
    const std::uint64_t spread = mix64(hash + row * 0x9E3779B97F4A7C15ULL);
    std::uint64_t& word = table_[spread & mask_];
    const unsigned shift = static_cast<unsigned>(spread >> 60U) * 4U;
    if (((word >> shift) & 0xFU) < max_counter) {
      word += std::uint64_t{1} << shift;
      added = true;
    }
  }
  if (added && ++additions_ >= sample_size_) {
    halve();
  }
}

unsigned FrequencySketch::estimate(std::uint64_t hash) const noexcept {
  unsigned frequency = max_counter;
  for (std::uint64_t row = 0; row < 4; ++row) {
    const std::uint64_t spread = mix64(hash + row * 0x9E3779B97F4A7C15ULL);
    const unsigned shift = static_cast<unsigned>(spread >> 60U) * 4U;
    frequency = std::min(frequency, static_cast<unsigned>((table_[spread & mask_] >> shift) & 0xFU));
  }
  return frequency;
}

void FrequencySketch::halve() noexcept {
  for (std::uint64_t& word : table_) {
    word = (word >> 1U) & halve_mask;
  }
  additions_ /= 2;
}

WTinyLfu::WTinyLfu(std::size_t max_weight, std::size_t expected_entries)
    : max_weight_(std::max<std::size_t>(max_weight, 1)),
      max_window_(std::max<std::size_t>(
          1, static_cast<std::size_t>(static_cast<double>(max_weight_) * initial_window_fraction))),
      max_protected_(static_cast<std::size_t>(static_cast<double>(max_weight_ - max_window_) *
                                              protected_fraction)),
      sketch_(expected_entries),
      step_(climber_step_fraction) {}

void WTinyLfu::record_access(std::uint64_t hash, bool hit) noexcept {
  sketch_.increment(hash);
  ++sample_accesses_;
  if (hit) {
    ++sample_hits_;
  }
  // One sample period is ten accesses per entry the cache holds, as for the
  // sketch's aging.
  if (sample_accesses_ >= 10 * std::max<std::size_t>(entries_, 64)) {
    climb();
  }
}

void WTinyLfu::on_hit(PolicyNode& node) noexcept {
  switch (node.region) {
    case PolicyNode::Region::window:
      window_.splice(window_.begin(), window_, window_.iterator_to(node));
      break;
    case PolicyNode::Region::probation:
      promote(node);
      break;
    case PolicyNode::Region::protected_:
      protected_.splice(protected_.begin(), protected_, protected_.iterator_to(node));
      break;
    case PolicyNode::Region::none:
      break;
  }
}

void WTinyLfu::on_insert(PolicyNode& node, Victims& victims) {
  if (node.weight > max_weight_) {
    victims.push_back(&node);
    return;
  }
  link(node, PolicyNode::Region::window);
  ++entries_;
  sketch_.ensure_capacity(entries_);

  evict_from_window(victims);
  evict_from_main(victims);
}

void WTinyLfu::on_remove(PolicyNode& node) noexcept {
  if (node.region == PolicyNode::Region::none) {
    return;
  }
  unlink(node);
  --entries_;
}

void WTinyLfu::on_weight_change(PolicyNode& node, std::size_t new_weight, Victims& victims) {
  on_remove(node);
  node.weight = new_weight;
  on_insert(node, victims);
}

PolicyNode* WTinyLfu::evict_one() noexcept {
  for (List* list : {&probation_, &protected_, &window_}) {
    if (!list->empty()) {
      PolicyNode& victim = list->back();
      on_remove(victim);
      return &victim;
    }
  }
  return nullptr;
}

void WTinyLfu::unlink(PolicyNode& node) noexcept {
  switch (node.region) {
    case PolicyNode::Region::window:
      window_.erase(window_.iterator_to(node));
      window_weight_ -= node.weight;
      break;
    case PolicyNode::Region::probation:
      probation_.erase(probation_.iterator_to(node));
      probation_weight_ -= node.weight;
      break;
    case PolicyNode::Region::protected_:
      protected_.erase(protected_.iterator_to(node));
      protected_weight_ -= node.weight;
      break;
    case PolicyNode::Region::none:
      break;
  }
  node.region = PolicyNode::Region::none;
}

void WTinyLfu::link(PolicyNode& node, PolicyNode::Region region) noexcept {
  node.region = region;
  switch (region) {
    case PolicyNode::Region::window:
      window_.push_front(node);
      window_weight_ += node.weight;
      break;
    case PolicyNode::Region::probation:
      probation_.push_front(node);
      probation_weight_ += node.weight;
      break;
    case PolicyNode::Region::protected_:
      protected_.push_front(node);
      protected_weight_ += node.weight;
      break;
    case PolicyNode::Region::none:
      break;
  }
}

// A probation entry that is used again earns a place in the protected
// segment; the protected segment's overflow goes back to probation.
void WTinyLfu::promote(PolicyNode& node) noexcept {
  unlink(node);
  link(node, PolicyNode::Region::protected_);
  demote_protected_overflow();
}

void WTinyLfu::demote_protected_overflow() noexcept {
  while (protected_weight_ > max_protected_ && protected_.size() > 1) {
    PolicyNode& coldest = protected_.back();
    unlink(coldest);
    link(coldest, PolicyNode::Region::probation);
  }
}

// Moves the window's overflow to the probation segment, where it competes for
// a place in the main space as a candidate.
void WTinyLfu::evict_from_window(Victims& /*victims*/) {
  while (window_weight_ > max_window_ && window_.size() > 1) {
    PolicyNode& candidate = window_.back();
    unlink(candidate);
    link(candidate, PolicyNode::Region::probation);
    ++pending_candidates_;
  }
}

// Returns the coldest entry that is not a pending candidate: the probation
// segment's LRU end, else the protected segment's, else the window's.
PolicyNode* WTinyLfu::coldest_resident() noexcept {
  if (probation_.size() > pending_candidates_) {
    return &probation_.back();
  }
  if (!protected_.empty()) {
    return &protected_.back();
  }
  if (!window_.empty()) {
    return &window_.back();
  }
  return nullptr;
}

// Removes entries until the total weight fits. While candidates from the
// window are pending, each removal is a duel between the newest candidate and
// the coldest resident, and the sketch's frequency estimate decides who stays.
// A large candidate may have to win several duels in a row.
void WTinyLfu::evict_from_main(Victims& victims) {
  while (weight() > max_weight_) {
    PolicyNode* victim = coldest_resident();
    PolicyNode* loser = victim;
    if (pending_candidates_ > 0) {
      PolicyNode& candidate = probation_.front();
      if (victim == nullptr || !admit(candidate, *victim)) {
        loser = &candidate;
        --pending_candidates_;
      }
    }
    if (loser == nullptr) {
      break;
    }
    on_remove(*loser);
    victims.push_back(loser);
  }
  pending_candidates_ = 0;
}

// Admits only a candidate estimated strictly more frequent than the victim.
// Ties go to the resident, which keeps loops and stable working sets intact.
// Admitting a warm candidate at random, one time in 128, defends against
// attackers who make keys collide in the sketch. It is left out: the store's
// seeded hash keeps such collisions from being computed in advance, and on the
// loop trace of the LIRS paper the random admissions cost 3.7 points of hit
// ratio (viewcache-sim, 512 entries).
bool WTinyLfu::admit(const PolicyNode& candidate, const PolicyNode& victim) const noexcept {
  return sketch_.estimate(candidate.hash) > sketch_.estimate(victim.hash);
}

// One step of the hill climber (see the design note in the header).
void WTinyLfu::climb() noexcept {
  const double hit_ratio =
      static_cast<double>(sample_hits_) / static_cast<double>(sample_accesses_);
  const double change = hit_ratio - previous_hit_ratio_;
  const double amount = change >= 0 ? step_ : -step_;
  step_ = std::abs(change) >= climber_restart_change
              ? (amount >= 0 ? climber_step_fraction : -climber_step_fraction)
              : climber_step_decay * amount;
  previous_hit_ratio_ = hit_ratio;
  sample_accesses_ = 0;
  sample_hits_ = 0;

  const double max = static_cast<double>(max_weight_);
  const double window = std::clamp(static_cast<double>(max_window_) + amount * max, 1.0,
                                   max * (1.0 - 1.0 / 16));
  max_window_ = static_cast<std::size_t>(window);
  max_protected_ = static_cast<std::size_t>((max - window) * protected_fraction);
  demote_protected_overflow();
}

}  // namespace viewcache::detail
