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
// popularity fades.
//
// Window sizing. Recency-heavy workloads want a large window, frequency-heavy
// ones a window of a few entries. Seven shadow caches find the size. Each is a
// W-TinyLFU policy with a fixed window (one entry, 1%, 3%, 7%, 15%, 30% or 50%
// of its capacity) at 1/n of the real capacity, and it replays the lookups of
// one key in n, chosen by hash. Spatial sampling keeps each key's whole
// history, so a scaled-down cache measures about the hit ratio of the full-size
// one. The seven see the same keys, so they share one sketch and one table that
// has a node per shadow cache for each key. Every two lookups per cached entry,
// the real window takes the size of the shadow cache with the most hits,
// counted with a decay of 3% per period. A hill climber must try each size on
// the real cache for a whole period and follows a noisy hit ratio. The shadow
// caches try all sizes at once, so the window settles within a few periods,
// even on traces that are short for the cache's size.
//
// Size awareness. Entries weigh their bytes. Admitting a candidate may need
// several probation victims; the candidate must beat each of them in turn, so
// one large cold page cannot push out many small hot ones. The shadow caches
// replay weights too.
//
// Trade-off and failure mode. The sketch costs a few bytes per entry of
// capacity, and every access updates it. The shadow caches sample one key in 16
// for caches of 1,024 to 65,535 entries. Larger caches sample fewer keys, so
// that each shadow cache keeps 2,048 to 4,095 entries. Smaller ones sample
// more, so that each keeps at least 64, and a cache under 128 entries replays
// every key. A sampled lookup costs a table lookup, a sketch update and seven
// list updates. On a store of 1,024 hot keys (viewcache_latency_bench, one
// thread) MemoryStore::get went from about 50 to 52 ns at the median, and the
// memory benchmark's store overhead from 241 to 262 bytes per entry. A small
// sample is noisy: sampling one key in 16 instead of every key costs up to 0.35
// points on some traces of docs/benchmarks.md. The window can only take the
// seven sizes above.
//
// Workloads that favour recency at large sizes (the cache2k web traces at
// 4,000 entries, scarab at 25,000) still trail ARC by 0.3 to 0.7 points of hit
// ratio (viewcache-sim). No fixed window closes that gap, and neither did
// admitting candidates that tie with the victim at low frequencies. An
// attacker who can make many keys collide in the sketch could raise their
// estimates. MemoryStore hashes keys with a per-store random seed, so such
// collisions cannot be computed in advance.
//
// References: G. Einziger, R. Friedman, B. Manes, "TinyLFU: A Highly
// Efficient Cache Admission Policy", ACM Transactions on Storage, 2017;
// G. Einziger et al., "Adaptive Software Cache Management", Middleware 2018;
// the design notes of Caffeine (github.com/ben-manes/caffeine, wiki "Design");
// C. Waldspurger et al., "Cache Modeling and Optimization using Miniature
// Simulations", USENIX ;login:, Spring 2018, for spatially sampled shadow
// caches that try several configurations at once.

#include <boost/container/small_vector.hpp>
#include <boost/intrusive/list.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
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
  ~WTinyLfu();

  WTinyLfu(const WTinyLfu&) = delete;
  WTinyLfu& operator=(const WTinyLfu&) = delete;

  // Counts one lookup of hash: feeds the sketch, and every two lookups per
  // cached entry gives the window the size of the best shadow cache. hit is
  // not used, because the shadow caches count their own hits.
  void record_access(std::uint64_t hash, bool hit) noexcept;

  // Marks node, already in the policy, as just used. Throws std::bad_alloc
  // when a shadow cache cannot grow, and the policy is then unchanged.
  void on_hit(PolicyNode& node);

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

  // The shadow caches' memory per entry of the real cache, an estimate. They
  // keep one key in sample_rate, each shadow cache keeps about 1/sample_rate
  // of the real one's entries, and the seven of them disagree about some
  // keys, so this counts three sampled keys per sample_rate entries (the
  // union measured in a store that samples every key). The rate
  // is chosen from expected_entries, so a cache of far smaller entries than
  // expected samples more keys and pays more per entry.
  [[nodiscard]] std::size_t shadow_bytes_per_entry() const noexcept;

  [[nodiscard]] std::size_t weight() const noexcept { return window_weight_ + main_weight(); }
  [[nodiscard]] std::size_t max_weight() const noexcept { return max_weight_; }
  [[nodiscard]] std::size_t entries() const noexcept { return entries_; }
  [[nodiscard]] std::size_t max_window_weight() const noexcept { return max_window_; }

  // Removes and returns the least valuable node, or nullptr when empty: for a
  // store that must free room for other reasons. The caller destroys it.
  [[nodiscard]] PolicyNode* evict_one() noexcept;

 private:
  using List = boost::intrusive::list<PolicyNode>;
  class ShadowCaches;

  // A policy whose window stays at window_fraction of max_weight and whose
  // admission reads sketch, which its owner feeds: a shadow cache's policy.
  WTinyLfu(std::size_t max_weight, double window_fraction, FrequencySketch& sketch);

  [[nodiscard]] std::size_t main_weight() const noexcept {
    return probation_weight_ + protected_weight_;
  }
  void unlink(PolicyNode& node) noexcept;
  void link(PolicyNode& node, PolicyNode::Region region) noexcept;
  void promote(PolicyNode& node) noexcept;
  void insert(PolicyNode& node, Victims& victims);
  void resize_window(double window_fraction) noexcept;
  void demote_protected_overflow() noexcept;
  void evict_from_window(Victims& victims);
  void evict_from_main(Victims& victims);
  [[nodiscard]] PolicyNode* coldest_resident() noexcept;
  [[nodiscard]] bool admit(const PolicyNode& candidate, const PolicyNode& victim) const noexcept;
  void adopt_best_window() noexcept;

  std::size_t max_weight_;
  std::size_t max_window_ = 1;
  std::size_t max_protected_ = 0;

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

  // Unused in a shadow cache's policy, which reads the sketch that all shadow
  // caches share.
  FrequencySketch own_sketch_;
  FrequencySketch* sketch_;

  // Lookups counted since the shadow caches were last compared.
  std::size_t sample_accesses_ = 0;

  // Null in a shadow cache's own policy.
  std::unique_ptr<ShadowCaches> shadow_caches_;
  std::size_t shadow_sample_rate_ = 0;  // zero without shadow caches
  std::size_t current_shadow_ = 0;  // the shadow cache whose window size is in use
};

}  // namespace viewcache::detail
