#include "eviction/w_tinylfu.hpp"

#include "mix.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <unordered_map>

namespace viewcache::detail {
namespace {

constexpr double protected_fraction = 0.80;       // of the main space
constexpr unsigned max_counter = 15;
constexpr std::uint64_t halve_mask = 0x7777777777777777ULL;

// The window sizes the shadow caches try, as fractions of max_weight. Zero
// stands for a window of one entry. The steps are finer at the low end, where
// frequency-heavy traces differ by fractions of a point.
constexpr std::array<double, 7> shadow_window_fractions = {0.0, 0.01, 0.03, 0.07,
                                                           0.15, 0.30, 0.50};
// The window starts at 1% of max_weight, as Caffeine's does.
constexpr std::size_t initial_shadow = 1;

// A shadow cache replays one key in 2^k, with k chosen so that it keeps at
// least this many entries, or all keys when the cache is smaller.
constexpr std::size_t min_shadow_entries = 2048;

// The shadow caches are compared every two lookups per cached entry (counting
// at least 64 entries). Each one's hit count is multiplied by this
// factor at every comparison, so its score covers roughly the last 30
// periods.
constexpr std::size_t resize_period_per_entry = 2;
constexpr double shadow_hit_decay = 0.97;

// Picks the shadow caches' sample of keys independently of the sketch's rows.
constexpr std::uint64_t shadow_sample_salt = 0xD6E8FEB86659FD93ULL;

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

// A smaller cache with a fixed window, fed the sampled keys of the real one.
// It owns its entries, keyed by hash: two keys whose hashes collide count as
// one, which only blurs the score.
struct WTinyLfu::ShadowCache {
  ShadowCache(std::size_t max_weight, std::size_t expected_entries, double fraction)
      : window_fraction(fraction), policy(max_weight, expected_entries, fraction) {
    entries.reserve(expected_entries);
  }

  // Replays one lookup of hash, inserting it on a miss.
  void access(std::uint64_t hash, std::size_t weight) {
    const auto found = entries.find(hash);
    const bool hit = found != entries.end();
    policy.record_access(hash, hit);
    if (hit) {
      score += 1;
      policy.on_hit(found->second);
      return;
    }

    PolicyNode& node = entries[hash];
    node.hash = hash;
    node.weight = weight;
    victims.clear();
    try {
      policy.on_insert(node, victims);
    } catch (...) {
      // An entry the policy never linked would count as a hit forever.
      if (node.region == PolicyNode::Region::none) {
        entries.erase(hash);
      }
      throw;
    }
    for (PolicyNode* victim : victims) {
      entries.erase(victim->hash);
    }
  }

  double window_fraction;
  double score = 0;  // hits, decayed at every comparison
  // Declared before policy, so the policy's lists unlink the entries before
  // the entries are destroyed.
  std::unordered_map<std::uint64_t, PolicyNode> entries;
  WTinyLfu policy;
  Victims victims;
};

WTinyLfu::WTinyLfu(std::size_t max_weight, std::size_t expected_entries)
    : WTinyLfu(max_weight, expected_entries, shadow_window_fractions[initial_shadow]) {
  // Samples one key in 2^k so that each shadow cache keeps at least
  // min_shadow_entries entries. A smaller cache is replayed whole.
  std::size_t sample_rate = 1;
  while (expected_entries / (sample_rate * 2) >= min_shadow_entries) {
    sample_rate *= 2;
  }
  shadow_sample_mask_ = sample_rate - 1;
  current_shadow_ = initial_shadow;

  const std::size_t shadow_weight = std::max<std::size_t>(1, max_weight_ / sample_rate);
  const std::size_t shadow_entries = std::max<std::size_t>(16, expected_entries / sample_rate);
  shadow_caches_.reserve(shadow_window_fractions.size());
  for (const double fraction : shadow_window_fractions) {
    shadow_caches_.push_back(
        std::make_unique<ShadowCache>(shadow_weight, shadow_entries, fraction));
  }
}

WTinyLfu::WTinyLfu(std::size_t max_weight, std::size_t expected_entries, double window_fraction)
    : max_weight_(std::max<std::size_t>(max_weight, 1)), max_window_(1), max_protected_(0),
      sketch_(expected_entries) {
  resize_window(window_fraction);
}

WTinyLfu::~WTinyLfu() = default;

void WTinyLfu::record_access(std::uint64_t hash, [[maybe_unused]] bool hit) noexcept {
  sketch_.increment(hash);
  if (shadow_caches_.empty()) {
    return;
  }
  ++sample_accesses_;
  if (sample_accesses_ >= resize_period_per_entry * std::max<std::size_t>(entries_, 64)) {
    adopt_best_window();
  }
}

void WTinyLfu::on_hit(PolicyNode& node) {
  feed_shadow_caches(node);
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
  feed_shadow_caches(node);
  insert(node, victims);
}

void WTinyLfu::insert(PolicyNode& node, Victims& victims) {
  if (node.weight > max_weight_) {
    victims.push_back(&node);
    return;
  }
  // Grows the sketch before linking, so an allocation failure leaves the
  // policy unchanged.
  sketch_.ensure_capacity(entries_ + 1);
  link(node, PolicyNode::Region::window);
  ++entries_;

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
  // Not a lookup, so the shadow caches do not see it.
  on_remove(node);
  node.weight = new_weight;
  insert(node, victims);
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

// Replays the lookup of node through the shadow caches when its key is in
// their sample.
void WTinyLfu::feed_shadow_caches(const PolicyNode& node) {
  if (shadow_caches_.empty()) {
    return;
  }
  if ((mix64(node.hash ^ shadow_sample_salt) & shadow_sample_mask_) != 0) {
    return;
  }
  for (const std::unique_ptr<ShadowCache>& shadow : shadow_caches_) {
    shadow->access(node.hash, node.weight);
  }
}

// Gives the window the size of the shadow cache with the best recent score.
// On a tie the window keeps its size.
void WTinyLfu::adopt_best_window() noexcept {
  std::size_t best = current_shadow_;
  for (std::size_t i = 0; i < shadow_caches_.size(); ++i) {
    if (shadow_caches_[i]->score > shadow_caches_[best]->score) {
      best = i;
    }
  }
  if (best != current_shadow_) {
    current_shadow_ = best;
    resize_window(shadow_caches_[best]->window_fraction);
  }

  for (const std::unique_ptr<ShadowCache>& shadow : shadow_caches_) {
    shadow->score *= shadow_hit_decay;
  }
  sample_accesses_ = 0;
}

// Sets the window to window_fraction of max_weight (at least one unit) and the
// protected segment to its share of the rest. A smaller window takes effect
// as its overflow moves to probation on the next insertion.
void WTinyLfu::resize_window(double window_fraction) noexcept {
  const double max = static_cast<double>(max_weight_);
  max_window_ = std::max<std::size_t>(1, static_cast<std::size_t>(max * window_fraction));
  max_protected_ =
      static_cast<std::size_t>((max - static_cast<double>(max_window_)) * protected_fraction);
  demote_protected_overflow();
}

}  // namespace viewcache::detail
