// viewcache-sim as a process: exit statuses and messages for bad input, the
// table, and JSON output parsed back.

// Boost.JSON as a header-only library: this file compiles its sources.
#include <boost/json/src.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sim_test_support.hpp"

extern char** environ;

namespace viewcache::sim {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::ScratchDir;

const std::string data_dir = VIEWCACHE_SIM_TEST_DATA;

struct RunResult {
  int status = -1;  // exit status, or -1 if the process did not exit normally
  std::string out;
  std::string err;
};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// Runs viewcache-sim with arguments, stdin from /dev/null, and returns its
// exit status and output.
RunResult run_sim(const std::vector<std::string>& arguments) {
  const ScratchDir dir;
  const std::string out_path = (dir.path() / "out").string();
  const std::string err_path = (dir.path() / "err").string();

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);

  std::string program = VIEWCACHE_SIM_PATH;
  std::vector<std::string> storage = arguments;
  std::vector<char*> argv{program.data()};
  for (std::string& argument : storage) {
    argv.push_back(argument.data());
  }
  argv.push_back(nullptr);

  RunResult result;
  pid_t child = 0;
  const int spawned = posix_spawn(&child, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    ADD_FAILURE() << "cannot start " << program << ": " << std::strerror(spawned);
    return result;
  }
  int status = 0;
  waitpid(child, &status, 0);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = read_file(out_path);
  result.err = read_file(err_path);
  return result;
}

TEST(SimCli, UnknownFormatListsValidOnes) {
  const RunResult run =
      run_sim({"--trace", data_dir + "/small.lis", "--format", "nope", "--capacity", "2"});
  EXPECT_EQ(run.status, 2);
  EXPECT_THAT(run.err, HasSubstr("unknown format 'nope'"));
  EXPECT_THAT(run.err, HasSubstr("arc, lirs, cache2k, int64, adaptsize, keys, access-log, zipf"));
}

TEST(SimCli, MissingFileIsNamed) {
  const RunResult run =
      run_sim({"--trace", "/nonexistent/x.lis", "--format", "arc", "--capacity", "2"});
  EXPECT_EQ(run.status, 2);
  EXPECT_THAT(run.err, HasSubstr("'/nonexistent/x.lis'"));
  EXPECT_THAT(run.err, HasSubstr("No such file or directory"));
}

TEST(SimCli, CorruptXzIsReported) {
  const RunResult run =
      run_sim({"--trace", data_dir + "/corrupt.lis.xz", "--format", "arc", "--capacity", "2"});
  EXPECT_EQ(run.status, 2);
  EXPECT_THAT(run.err, HasSubstr("corrupt xz stream"));
  EXPECT_EQ(run.out, "");
}

TEST(SimCli, BadLineNamesLineNumber) {
  const ScratchDir dir;
  const std::string path = dir.write("bad.trace", "1\n2\n3\nfour\n5\n");
  const RunResult run = run_sim({"--trace", path, "--format", "lirs", "--capacity", "2"});
  EXPECT_EQ(run.status, 2);
  EXPECT_THAT(run.err, HasSubstr(path + ":4:"));
  EXPECT_THAT(run.err, HasSubstr("\"four\""));
}

TEST(SimCli, ZeroCapacityIsRejected) {
  const RunResult run =
      run_sim({"--trace", data_dir + "/small.lis", "--format", "arc", "--capacity", "0"});
  EXPECT_EQ(run.status, 2);
  EXPECT_THAT(run.err, HasSubstr("invalid capacity '0'"));
}

TEST(SimCli, MalformedCapacityIsRejected) {
  for (const char* capacity : {"12QB", "MiB", "-5", "99999999999999999999", "20000000000GiB"}) {
    SCOPED_TRACE(capacity);
    const RunResult run =
        run_sim({"--trace", data_dir + "/small.lis", "--format", "arc", "--capacity", capacity});
    EXPECT_EQ(run.status, 2);
    EXPECT_THAT(run.err, HasSubstr("invalid capacity"));
  }
}

TEST(SimCli, ByteCapacityNeedsSizes) {
  const RunResult run =
      run_sim({"--trace", data_dir + "/small.lis", "--format", "arc", "--capacity", "1MiB"});
  EXPECT_EQ(run.status, 2);
  EXPECT_THAT(run.err, HasSubstr("records no request sizes"));
}

TEST(SimCli, UnknownPolicyListsValidOnes) {
  const RunResult run = run_sim({"--trace", data_dir + "/small.lis", "--format", "arc",
                                 "--capacity", "2", "--policy", "lru,fifo"});
  EXPECT_EQ(run.status, 2);
  EXPECT_THAT(run.err, HasSubstr("unknown policy 'fifo'; valid policies: viewcache, lru, arc"));
}

TEST(SimCli, MissingOptionsAreNamed) {
  EXPECT_THAT(run_sim({"--format", "arc", "--capacity", "2"}).err, HasSubstr("--trace"));
  EXPECT_THAT(run_sim({"--trace", "x", "--capacity", "2"}).err, HasSubstr("--format"));
  EXPECT_THAT(run_sim({"--trace", "x", "--format", "arc"}).err, HasSubstr("--capacity"));
  EXPECT_EQ(run_sim({"--trace", "x", "--format", "arc", "--bogus"}).status, 2);
}

TEST(SimCli, HelpDescribesFormats) {
  const RunResult run = run_sim({"--help"});
  EXPECT_EQ(run.status, 0);
  EXPECT_THAT(run.out, HasSubstr("access-log"));
  EXPECT_THAT(run.out, HasSubstr("flood"));
}

TEST(SimCli, TablePrintsEveryPolicy) {
  const RunResult run = run_sim({"--trace", data_dir + "/small.lis.xz", "--format", "arc",
                                 "--capacity", "2", "--capacity", "3", "--policy", "lru,opt"});
  ASSERT_EQ(run.status, 0) << run.err;
  // Requests: 10 11 12 20 10 11. LRU at 2 never hits; at 3, 10 and 11 were
  // pushed out by 12 and 20. OPT at 2 keeps 10 and 11 (2 hits of 6).
  EXPECT_THAT(run.out, HasSubstr("6 requests, 4 distinct keys"));
  EXPECT_THAT(run.out, HasSubstr("capacity        lru        opt\n"));
  EXPECT_THAT(run.out, HasSubstr("       2      0.00%     33.33%\n"));
  EXPECT_THAT(run.out, Not(HasSubstr("byte hit ratio")));
}

TEST(SimCli, JsonLinesParseBack) {
  const RunResult run = run_sim({"--trace", data_dir + "/small.lis", "--format", "arc",
                                 "--capacity", "2,4", "--policy", "opt", "--policy", "lru",
                                 "--json"});
  ASSERT_EQ(run.status, 0) << run.err;

  std::istringstream lines(run.out);
  std::vector<boost::json::object> objects;
  for (std::string line; std::getline(lines, line);) {
    objects.push_back(boost::json::parse(line).as_object());
  }
  ASSERT_EQ(objects.size(), 4U);

  // Ordered by capacity, then policy as given.
  EXPECT_EQ(objects[0].at("policy").as_string(), "opt");
  EXPECT_EQ(objects[1].at("policy").as_string(), "lru");
  EXPECT_EQ(objects[2].at("capacity").as_int64(), 4);
  for (const boost::json::object& object : objects) {
    EXPECT_EQ(object.at("trace").as_string(), data_dir + "/small.lis");
    EXPECT_EQ(object.at("requests").as_int64(), 6);
    const double expected = static_cast<double>(object.at("hits").as_int64()) / 6.0;
    EXPECT_DOUBLE_EQ(object.at("hit_ratio").as_double(), expected);
    EXPECT_FALSE(object.contains("byte_hit_ratio"));
  }
  // With room for all 4 keys, the second requests for 10 and 11 hit.
  EXPECT_EQ(objects[3].at("hits").as_int64(), 2);
}

TEST(SimCli, JsonHasByteHitRatioWithSizes) {
  const ScratchDir dir;
  const std::string path = dir.write("t", "1 7 100\n2 8 300\n3 7 100\n");
  const RunResult run = run_sim({"--trace", path, "--format", "adaptsize", "--capacity", "1KiB",
                                 "--policy", "lru,arc", "--json"});
  ASSERT_EQ(run.status, 0) << run.err;
  // arc does not run at byte capacities: a note on stderr, no JSON line.
  EXPECT_THAT(run.err, HasSubstr("arc at 1KiB"));
  const boost::json::object object = boost::json::parse(run.out).as_object();
  EXPECT_EQ(object.at("capacity").as_int64(), 1024);
  EXPECT_EQ(object.at("capacity_unit").as_string(), "bytes");
  EXPECT_DOUBLE_EQ(object.at("byte_hit_ratio").as_double(), 100.0 / 500.0);
}

TEST(SimCli, ProgressOnRequest) {
  const RunResult run = run_sim({"--trace", "keys=1000,requests=1100000", "--format", "zipf",
                                 "--capacity", "100", "--policy", "lru", "--progress"});
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_THAT(run.err, HasSubstr("1,048,576 requests"));
}

}  // namespace
}  // namespace viewcache::sim
