// libFuzzer entry point for the key oracle. Built by the fuzz preset with
// clang; run it with scripts/fuzz.sh.
#include <cstddef>
#include <cstdint>

#include "key_oracle.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  viewcache::fuzz::check_key_oracle(data, size);
  return 0;
}
