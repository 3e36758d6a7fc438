// Hit ratios on the real traces against published figures. The traces live
// outside the repository; without them these tests are skipped.

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "replay.hpp"
#include "trace.hpp"

namespace viewcache::sim {
namespace {

const std::filesystem::path traces_dir = VIEWCACHE_SIM_TRACES_DIR;

// Loads a trace from the traces directory, or returns nullopt if it is not there.
std::optional<Trace> load_if_present(const std::string& relative_path, Format format) {
  const std::filesystem::path path = traces_dir / relative_path;
  if (!std::filesystem::exists(path)) {
    return std::nullopt;
  }
  return load_trace(format, path.string());
}

std::string missing_message(const std::string& relative_path) {
  return "trace " + (traces_dir / relative_path).string() +
         " is missing; put the ARC traces there to run this test";
}

// Replays trace through policy at capacity entries and returns the hit ratio
// in percent.
double hit_ratio_percent(const Trace& trace, PolicyKind policy, std::uint64_t capacity) {
  const std::vector<PolicyKind> policies{policy};
  const std::vector<Capacity> capacities{
      Capacity{.value = capacity, .in_bytes = false, .text = std::to_string(capacity)}};
  return 100.0 * replay(trace, policies, capacities).front().hit_ratio();
}

// 32.83% is the figure quoted for LRU on OLTP at 1,000 pages from N. Megiddo
// and D. S. Modha, "ARC: A Self-Tuning, Low Overhead Replacement Cache",
// FAST 2003.
TEST(PublishedFigures, OltpLruAt1000) {
  const auto trace = load_if_present("arc/OLTP.lis.zst", Format::arc);
  if (!trace) {
    GTEST_SKIP() << missing_message("arc/OLTP.lis.zst");
  }
  ASSERT_EQ(trace->size(), 914'145U);
  EXPECT_NEAR(hit_ratio_percent(*trace, PolicyKind::lru, 1000), 32.83, 0.01);
}

// NOTE: 38.95% is this implementation's own result, kept as a regression
// value, not a published figure. Adapting p by real-valued ratios of the
// ghost list sizes gives it; integer division gives 39.06%.
TEST(PublishedFigures, OltpArcAt1000) {
  const auto trace = load_if_present("arc/OLTP.lis.zst", Format::arc);
  if (!trace) {
    GTEST_SKIP() << missing_message("arc/OLTP.lis.zst");
  }
  EXPECT_NEAR(hit_ratio_percent(*trace, PolicyKind::arc, 1000), 38.95, 0.01);
}

// 17.11% is the figure quoted for ARC on P3 at 32,768 pages from the same
// paper; this implementation gives 17.113%.
TEST(PublishedFigures, P3ArcAt32768) {
  const auto trace = load_if_present("arc/P3.lis.zst", Format::arc);
  if (!trace) {
    GTEST_SKIP() << missing_message("arc/P3.lis.zst");
  }
  ASSERT_EQ(trace->size(), 3'912'296U);
  EXPECT_NEAR(hit_ratio_percent(*trace, PolicyKind::arc, 32768), 17.11, 0.01);
}

}  // namespace
}  // namespace viewcache::sim
