#pragma once

// W-TinyLFU with an adaptive window: the eviction policy of MemoryStore, and
// the "viewcache" policy of viewcache-sim, which drives this same class.
//
// Mechanism. New entries enter a small LRU window. An entry pushed out of the
// window becomes a candidate for the main space, a segmented LRU (probation
// and protected). The candidate is admitted only if a count-min sketch of
// recent accesses estimates it more frequent than the entry it would displace
// (the probation segment's LRU end), so one-hit wonders and scans pass
// through the window without flushing the main space. The sketch halves all
// counters every sample period (ten accesses per entry of capacity), so old
// popularity fades. A hill climber moves the window/main boundary: every
// sample period it compares the hit ratio with the previous period and keeps
// stepping in the direction that helped, so recency-heavy workloads get a
// larger window and frequency-heavy ones a smaller one.
//
// Size awareness. Entries weigh their bytes. Admitting a candidate may need
// several probation victims; the candidate must beat each of them in turn, so
// one large cold page cannot push out many small hot ones.
//
// Trade-off and failure mode. The sketch costs a few bytes per entry of
// capacity, and every access updates it. A workload that shifts abruptly to a
// new working set is served by the window until the sketch has seen the new
// keys; the hill climber widens the window to shorten that phase. Workloads
// that favour pure recency at large sizes (the cache2k web traces at 4,000
// entries, scarab) still lose about one point of hit ratio to ARC
// (docs/benchmarks.md). An attacker who can make many keys collide in the
// sketch could raise their estimates; MemoryStore hashes keys with a
// per-store random seed, so such collisions cannot be computed in advance.
//
// References: G. Einziger, R. Friedman, B. Manes, "TinyLFU: A Highly
// Efficient Cache Admission Policy", ACM Transactions on Storage, 2017;
// G. Einziger et al., "Adaptive Software Cache Management", Middleware 2018;
// the design notes of Caffeine (github.com/ben-manes/caffeine, wiki "Design").

#include <boost/container/small_vector.hpp>
#include <boost/intrusive/list.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace viewcache::detail {

// The policy's part of an entry. The owner (a store shard, a simulator)
// derives its entry type from it and keeps the entry alive while it is in the
// policy.
struct PolicyNode : boost::intrusive::list_base_hook<> {
  enum class Region : std::uint8_t { none, window, probation, protected_ };

  std::uint64_t hash = 0;    // a well-mixed hash of the key
  std::size_t weight = 1;    // what the entry counts against max_weight
  Region region = Region::none;
};

using Victims = boost::container::small_vector<PolicyNode*, 8>;

// Estimates how often each key hash was seen recently: 4-bit counters in a
// count-min sketch of depth 4, halved every sample period.
class FrequencySketch {
 public:
  // Sizes the sketch for about expected_entries distinct keys.
  explicit FrequencySketch(std::size_t expected_entries);

  // Grows the sketch, keeping its counts, when expected_entries exceeds the
  // size it was built for.
  void ensure_capacity(std::size_t expected_entries);

  void increment(std::uint64_t hash) noexcept;
  [[nodiscard]] unsigned estimate(std::uint64_t hash) const noexcept;

 private:
  void halve() noexcept;

  std::vector<std::uint64_t> table_;  // 16 four-bit counters per word
  std::uint64_t mask_ = 0;
  std::size_t additions_ = 0;
  std::size_t sample_size_ = 0;
};

class WTinyLfu {
 public:
  // max_weight: the total weight the policy may hold. expected_entries: a
  // first estimate of how many entries that is, to size the sketch; it grows
  // as the real count does.
  WTinyLfu(std::size_t max_weight, std::size_t expected_entries);

  WTinyLfu(const WTinyLfu&) = delete;
  WTinyLfu& operator=(const WTinyLfu&) = delete;

  // Counts one lookup of hash, hit or miss. Feeds the sketch and the hill
  // climber's hit ratio.
  void record_access(std::uint64_t hash, bool hit) noexcept;

  // Marks node, already in the policy, as just used.
  void on_hit(PolicyNode& node) noexcept;

  // Adds node, which must not be in the policy, and appends to victims every
  // node the policy removes to stay within max_weight, node itself included
  // when admission rejects it or it weighs more than max_weight. The caller
  // destroys the victims; they are unlinked already.
  void on_insert(PolicyNode& node, Victims& victims);

  // Removes node (erased or expired) from the policy.
  void on_remove(PolicyNode& node) noexcept;

  // Changes the weight of node, which is in the policy, and appends victims
  // as on_insert does.
  void on_weight_change(PolicyNode& node, std::size_t new_weight, Victims& victims);

  [[nodiscard]] std::size_t weight() const noexcept { return window_weight_ + main_weight(); }
  [[nodiscard]] std::size_t max_weight() const noexcept { return max_weight_; }
  [[nodiscard]] std::size_t entries() const noexcept { return entries_; }
  [[nodiscard]] std::size_t max_window_weight() const noexcept { return max_window_; }

  // Removes and returns the least valuable node, or nullptr when empty: for a
  // store that must free room for other reasons. The caller destroys it.
  [[nodiscard]] PolicyNode* evict_one() noexcept;

 private:
  using List = boost::intrusive::list<PolicyNode>;

  [[nodiscard]] std::size_t main_weight() const noexcept {
    return probation_weight_ + protected_weight_;
  }
  void unlink(PolicyNode& node) noexcept;
  void link(PolicyNode& node, PolicyNode::Region region) noexcept;
  void promote(PolicyNode& node) noexcept;
  void demote_protected_overflow() noexcept;
  void evict_from_window(Victims& victims);
  void evict_from_main(Victims& victims);
  [[nodiscard]] PolicyNode* coldest_resident() noexcept;
  [[nodiscard]] bool admit(const PolicyNode& candidate, const PolicyNode& victim) const noexcept;
  void climb() noexcept;

  std::size_t max_weight_;
  std::size_t max_window_;
  std::size_t max_protected_;

  List window_;
  List probation_;
  List protected_;
  std::size_t window_weight_ = 0;
  std::size_t probation_weight_ = 0;
  std::size_t protected_weight_ = 0;
  std::size_t entries_ = 0;

  // Entries moved from the window to the front of probation by the current
  // insertion, which have not yet won or lost their duel for the main space.
  std::size_t pending_candidates_ = 0;

  FrequencySketch sketch_;

  // Hill climber state for the current sample period.
  std::size_t sample_accesses_ = 0;
  std::size_t sample_hits_ = 0;
  double previous_hit_ratio_ = 0.0;
  double step_ = 0.0;  // signed change of max_window_ as a fraction of max_weight_
};

}  // namespace viewcache::detail
