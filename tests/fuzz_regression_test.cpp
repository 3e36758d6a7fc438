// Replays every input under tests/fuzz/regressions/ and tests/fuzz/seeds/
// through the key oracle that the fuzz target runs. An input the fuzzer once
// found stays fixed: a regression aborts this test.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "fuzz/key_oracle.hpp"

namespace {

std::vector<std::filesystem::path> inputs() {
  std::vector<std::filesystem::path> files;
  for (const char* folder : {"regressions", "seeds"}) {
    const std::filesystem::path root = std::filesystem::path{VIEWCACHE_FUZZ_DIR} / folder;
    for (const auto& entry : std::filesystem::directory_iterator(root)) {
      if (entry.is_regular_file() && entry.path().filename() != ".gitkeep") {
        files.push_back(entry.path());
      }
    }
  }
  return files;
}

TEST(KeyFuzzRegression, StoredInputsPassOracle) {
  const auto files = inputs();
  ASSERT_FALSE(files.empty());
  for (const auto& file : files) {
    SCOPED_TRACE(file.string());
    std::ifstream stream(file, std::ios::binary);
    const std::vector<char> bytes{std::istreambuf_iterator<char>(stream), {}};
    viewcache::fuzz::check_key_oracle(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                      bytes.size());
  }
}

}  // namespace
