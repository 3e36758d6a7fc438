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

// The shadow caches replay one key in sample_rate, a power of two. A cache of
// 32,768 entries or more samples the fewest keys that leave each shadow cache
// large_shadow_entries, so its hit ratio stays close to the full-size one's.
// A smaller cache samples one key in 16, so a lookup pays for the shadow
// caches one time in 16, but never fewer keys than leave small_shadow_entries
// in each shadow cache. A cache of fewer than 128 entries replays every key.
constexpr std::size_t large_shadow_entries = 2048;
constexpr std::size_t small_shadow_entries = 64;
constexpr std::size_t default_sample_rate = 16;

// The shadow caches are compared every two lookups per cached entry (counting
// at least 64 entries). Each one's hit count is multiplied by this factor at
// every comparison, so its score covers roughly the last 30 periods.
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

// Smaller caches, one per window size, fed the sampled keys of the real one.
// They see the same lookups, so they share one sketch and one table of
// entries, where each key has a node for every shadow cache. Entries are keyed
// by hash: two keys whose hashes collide count as one, which only blurs the
// scores.
class WTinyLfu::ShadowCaches {
 public:
  static constexpr std::size_t count = shadow_window_fractions.size();

  // Sizes each shadow cache for 1/sample_rate of max_weight and of
  // expected_entries.
  ShadowCaches(std::size_t max_weight, std::size_t expected_entries, std::size_t sample_rate)
      : sample_mask_(sample_rate - 1),
        sketch_(std::max<std::size_t>(16, expected_entries / sample_rate)) {
    const std::size_t shadow_weight = std::max<std::size_t>(1, max_weight / sample_rate);
    for (std::size_t i = 0; i < count; ++i) {
      policies_[i] = std::unique_ptr<WTinyLfu>(
          new WTinyLfu(shadow_weight, shadow_window_fractions[i], sketch_));
    }
    entries_.reserve(std::max<std::size_t>(16, expected_entries / sample_rate));
  }

  ShadowCaches(const ShadowCaches&) = delete;
  ShadowCaches& operator=(const ShadowCaches&) = delete;

  // Replays one lookup of hash in every shadow cache, inserting it where it
  // misses, when the key is in the sample.
  void access(std::uint64_t hash, std::size_t weight) {
    if ((mix64(hash ^ shadow_sample_salt) & sample_mask_) != 0) {
      return;
    }
    sketch_.increment(hash);

    Entry& entry = entries_[hash];
    for (std::size_t i = 0; i < count; ++i) {
      PolicyNode& node = entry.nodes[i];
      if (node.region != PolicyNode::Region::none) {
        scores_[i] += 1;
        policies_[i]->on_hit(node);
        continue;
      }
      node.hash = hash;
      node.weight = weight;
      victims_.clear();
      try {
        policies_[i]->insert(node, victims_);
      } catch (...) {
        settle(entry, node);
        throw;
      }
      settle(entry, node);
    }
    if (entry.resident == 0) {
      entries_.erase(hash);
    }
  }

  [[nodiscard]] double score(std::size_t i) const noexcept { return scores_[i]; }

  void decay_scores() noexcept {
    for (double& score : scores_) {
      score *= shadow_hit_decay;
    }
  }

 private:
  struct Entry {
    std::array<PolicyNode, count> nodes;
    std::size_t resident = 0;  // how many shadow caches contain the key
  };

  // Counts node, just inserted into one shadow cache, if that cache kept it.
  // Then drops the entry of each victim that has lost its last node. Every
  // other victim has another key, so entry itself stays valid.
  void settle(Entry& entry, const PolicyNode& node) {
    if (node.region != PolicyNode::Region::none) {
      ++entry.resident;
    }
    for (PolicyNode* victim : victims_) {
      if (victim == &node) {
        continue;
      }
      const auto found = entries_.find(victim->hash);
      if (found != entries_.end() && --found->second.resident == 0) {
        entries_.erase(found);
      }
    }
  }

  std::uint64_t sample_mask_;
  FrequencySketch sketch_;
  std::unordered_map<std::uint64_t, Entry> entries_;

 public:
  // The heap bytes of one sampled key: its node in entries_ (with the next
  // pointer, the cached hash and malloc's header) and its bucket pointer.
  static constexpr std::size_t key_bytes =
      sizeof(decltype(entries_)::value_type) + 4 * sizeof(void*);

 private:
  // Declared after sketch_ and entries_, so the policies are destroyed first
  // and their lists unlink the nodes before the table frees them.
  std::array<std::unique_ptr<WTinyLfu>, count> policies_;
  std::array<double, count> scores_{};  // hits, decayed at every comparison
  Victims victims_;
};

WTinyLfu::WTinyLfu(std::size_t max_weight, std::size_t expected_entries)
    : max_weight_(std::max<std::size_t>(max_weight, 1)),
      own_sketch_(expected_entries),
      sketch_(&own_sketch_),
      current_shadow_(initial_shadow) {
  resize_window(shadow_window_fractions[initial_shadow]);

  // The largest power of two that leaves each shadow cache min_entries.
  const auto max_sample_rate = [expected_entries](std::size_t min_entries) {
    std::size_t rate = 1;
    while (expected_entries / (rate * 2) >= min_entries) {
      rate *= 2;
    }
    return rate;
  };
  // TODO: the rate is fixed from expected_entries, so a cache whose entries
  // are far smaller than expected samples more keys than it needs.
  // MemoryStore::charge() makes each entry pay for them. The rate should
  // follow the real entry count, as the sketch's size does.
  const std::size_t sample_rate =
      std::max(max_sample_rate(large_shadow_entries),
               std::min(max_sample_rate(small_shadow_entries), default_sample_rate));
  shadow_caches_ = std::make_unique<ShadowCaches>(max_weight_, expected_entries, sample_rate);
  shadow_sample_rate_ = sample_rate;
}

WTinyLfu::WTinyLfu(std::size_t max_weight, double window_fraction, FrequencySketch& sketch)
    : max_weight_(std::max<std::size_t>(max_weight, 1)), own_sketch_(0), sketch_(&sketch) {
  resize_window(window_fraction);
}

WTinyLfu::~WTinyLfu() = default;

std::size_t WTinyLfu::shadow_bytes_per_entry() const noexcept {
  if (shadow_sample_rate_ == 0) {
    return 0;
  }
  return (3 * ShadowCaches::key_bytes + shadow_sample_rate_ - 1) / shadow_sample_rate_;
}

void WTinyLfu::record_access(std::uint64_t hash, [[maybe_unused]] bool hit) noexcept {
  sketch_->increment(hash);
  if (shadow_caches_ == nullptr) {
    return;
  }
  ++sample_accesses_;
  if (sample_accesses_ >= resize_period_per_entry * std::max<std::size_t>(entries_, 64)) {
    adopt_best_window();
  }
}

void WTinyLfu::on_hit(PolicyNode& node) {
  if (shadow_caches_ != nullptr) {
    shadow_caches_->access(node.hash, node.weight);
  }
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
  if (shadow_caches_ != nullptr) {
    shadow_caches_->access(node.hash, node.weight);
  }
  insert(node, victims);
}

void WTinyLfu::insert(PolicyNode& node, Victims& victims) {
  if (node.weight > max_weight_) {
    victims.push_back(&node);
    return;
  }
  // Grows the sketch before linking, so an allocation failure leaves the
  // policy unchanged.
  sketch_->ensure_capacity(entries_ + 1);
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
  return sketch_->estimate(candidate.hash) > sketch_->estimate(victim.hash);
}

// Gives the window the size of the shadow cache with the best recent score.
// On a tie the window keeps its size.
void WTinyLfu::adopt_best_window() noexcept {
  std::size_t best = current_shadow_;
  for (std::size_t i = 0; i < ShadowCaches::count; ++i) {
    if (shadow_caches_->score(i) > shadow_caches_->score(best)) {
      best = i;
    }
  }
  if (best != current_shadow_) {
    current_shadow_ = best;
    resize_window(shadow_window_fractions[best]);
  }

  shadow_caches_->decay_scores();
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
