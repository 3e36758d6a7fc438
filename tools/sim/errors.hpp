#pragma once

// The one error type of viewcache-sim. Every problem with the command line
// or the input throws InputError: an unknown option, a missing or damaged
// trace, a line that does not parse. Its message says what failed, where
// (file, line or byte offset), and what to do. main() prints it and exits
// with status 2.

#include <stdexcept>
#include <string>

namespace viewcache::sim {

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace viewcache::sim
