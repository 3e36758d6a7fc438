// The trace readers: every format on a tiny input checked by hand, the
// compressed variants, and the errors for inputs that do not parse.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "errors.hpp"
#include "sim_test_support.hpp"
#include "synthetic.hpp"
#include "trace.hpp"

namespace viewcache::sim {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::ScratchDir;

const std::string data_dir = VIEWCACHE_SIM_TEST_DATA;

// Returns the message of the InputError that loading throws, or "" if none.
std::string load_error(Format format, const std::string& source) {
  try {
    static_cast<void>(load_trace(format, source));
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

TEST(ArcFormat, ExpandsBlockRanges) {
  // "10 3 0 0" is blocks 10, 11, 12; ids are given in order of first use.
  const Trace trace = load_trace(Format::arc, data_dir + "/small.lis");
  EXPECT_THAT(trace.keys, ElementsAre(0, 1, 2, 3, 0, 1));
  EXPECT_EQ(trace.key_count, 4U);
  EXPECT_EQ(trace.distinct_keys, 4U);
  EXPECT_FALSE(trace.has_sizes());
}

TEST(ArcFormat, BadLineNamesFileAndLine) {
  ScratchDir dir;
  const std::string path = dir.write("bad.lis", "1 1 0 0\n2 x 0 1\n");
  const std::string message = load_error(Format::arc, path);
  EXPECT_THAT(message, HasSubstr(path + ":2:"));
  EXPECT_THAT(message, HasSubstr("\"2 x 0 1\""));
}

TEST(CompressedTrace, ZstdXzGzipMatchPlain) {
  const Trace plain = load_trace(Format::arc, data_dir + "/small.lis");
  for (const char* name : {"small.lis.zst", "small.lis.xz", "small.lis.gz"}) {
    SCOPED_TRACE(name);
    const Trace compressed = load_trace(Format::arc, data_dir + "/" + name);
    EXPECT_EQ(compressed.keys, plain.keys);
  }
}

TEST(CompressedTrace, DetectedByMagicNotName) {
  // A zstd stream in a file named .lis.
  const Trace trace = load_trace(Format::arc, data_dir + "/zstd-content.lis");
  EXPECT_THAT(trace.keys, ElementsAre(0, 1, 2, 3, 0, 1));
}

TEST(CompressedTrace, CorruptXzIsReported) {
  const std::string message = load_error(Format::arc, data_dir + "/corrupt.lis.xz");
  EXPECT_THAT(message, HasSubstr("corrupt xz stream"));
  EXPECT_THAT(message, HasSubstr("corrupt.lis.xz"));
}

TEST(CompressedTrace, TruncatedZstdIsReported) {
  EXPECT_THAT(load_error(Format::arc, data_dir + "/truncated.lis.zst"),
              HasSubstr("corrupt zstd stream"));
}

TEST(CompressedTrace, TruncatedGzipIsReported) {
  EXPECT_THAT(load_error(Format::arc, data_dir + "/truncated.lis.gz"),
              HasSubstr("corrupt gzip stream"));
}

TEST(CompressedTrace, NameWithoutMagicIsReported) {
  ScratchDir dir;
  const std::string path = dir.write("plain.xz", "1 1 0 0\n");
  EXPECT_THAT(load_error(Format::arc, path), HasSubstr("does not start with the xz magic number"));
}

TEST(TraceFile, MissingFileIsReported) {
  const std::string message = load_error(Format::lirs, "/nonexistent/trace.gz");
  EXPECT_THAT(message, HasSubstr("/nonexistent/trace.gz"));
  EXPECT_THAT(message, HasSubstr("No such file or directory"));
}

TEST(TraceFile, DirectoryIsReported) {
  ScratchDir dir;
  EXPECT_THAT(load_error(Format::lirs, dir.path().string()), HasSubstr("is a directory"));
}

TEST(TraceFile, EmptyTraceIsReported) {
  ScratchDir dir;
  EXPECT_THAT(load_error(Format::lirs, dir.write("empty", "\n*\n")), HasSubstr("no requests"));
}

TEST(LirsFormat, SkipsEmptyAndStarLines) {
  ScratchDir dir;
  const Trace trace = load_trace(Format::lirs, dir.write("t", "5\n\n*\n7\r\n 5 \n-3\n"));
  EXPECT_THAT(trace.keys, ElementsAre(0, 1, 0, 2));
}

TEST(LirsFormat, BadLineNamesLine) {
  ScratchDir dir;
  const std::string path = dir.write("t", "5\n7\nseven\n");
  EXPECT_THAT(load_error(Format::lirs, path), HasSubstr(path + ":3:"));
}

TEST(Cache2kFormat, ReadsBigEndianInt32) {
  ScratchDir dir;
  const std::string bytes("\x00\x00\x00\x01\xFF\xFF\xFF\xFF\x00\x00\x00\x01", 12);
  const Trace trace = load_trace(Format::cache2k, dir.write("t", bytes));
  EXPECT_THAT(trace.keys, ElementsAre(0, 1, 0));
  EXPECT_EQ(trace.key_count, 2U);
}

TEST(Cache2kFormat, PartialRecordNamesOffset) {
  ScratchDir dir;
  const std::string path = dir.write("t", std::string("\x00\x00\x00\x01\x00\x00", 6));
  const std::string message = load_error(Format::cache2k, path);
  EXPECT_THAT(message, HasSubstr("byte offset 4"));
  EXPECT_THAT(message, HasSubstr("ends 2 bytes into a 4-byte record"));
}

TEST(Int64Format, ReadsBigEndianInt64) {
  ScratchDir dir;
  std::string bytes;
  const std::uint64_t large = std::uint64_t{1} << 40U;
  for (const std::uint64_t key : {large, std::uint64_t{2}, large}) {
    for (int shift = 56; shift >= 0; shift -= 8) {
      bytes.push_back(static_cast<char>((key >> static_cast<unsigned>(shift)) & 0xFFU));
    }
  }
  const Trace trace = load_trace(Format::int64, dir.write("t", bytes));
  EXPECT_THAT(trace.keys, ElementsAre(0, 1, 0));
}

TEST(AdaptSizeFormat, KeyIsIdAndSize) {
  ScratchDir dir;
  const Trace trace = load_trace(Format::adaptsize, dir.write("t", "1 7 100\n2 7 200\n3 7 100\n"));
  EXPECT_THAT(trace.keys, ElementsAre(0, 1, 0));
  EXPECT_THAT(trace.sizes, ElementsAre(100, 200, 100));
}

TEST(AdaptSizeFormat, MissingSizeNamesLine) {
  ScratchDir dir;
  const std::string path = dir.write("t", "1 7 100\n2 7\n");
  EXPECT_THAT(load_error(Format::adaptsize, path), HasSubstr(path + ":2:"));
}

TEST(KeysFormat, EveryLineIsAKey) {
  ScratchDir dir;
  const Trace trace = load_trace(Format::keys, dir.write("t", "/a?x=1\n/b\n\n/a?x=1\n/b\r\n/c"));
  // The empty line is a key, "/b\r" differs from "/b", and the last line
  // needs no newline.
  EXPECT_THAT(trace.keys, ElementsAre(0, 1, 2, 0, 3, 4));
}

TEST(AccessLogFormat, OnlyGetWithStatus200IsLookup) {
  ScratchDir dir;
  const std::string log =
      "10.0.0.1 - - [04/Dec/2026:10:00:00 +0000] \"GET /home HTTP/1.1\" 200 5120\n"
      "10.0.0.2 - bob [04/Dec/2026:10:00:01 +0000] \"POST /login HTTP/1.1\" 200 12\n"
      "10.0.0.3 - - [04/Dec/2026:10:00:02 +0000] \"GET /missing HTTP/1.1\" 404 300\n"
      "10.0.0.4 - - [04/Dec/2026:10:00:03 +0000] \"GET /course?page=2 HTTP/1.1\" 200 - "
      "\"https://example.org/\" \"Mozilla/5.0 (\\\"quoted\\\")\"\n"
      "\n"
      "10.0.0.5 - - [04/Dec/2026:10:00:04 +0000] \"GET /home HTTP/1.1\" 200 5200\n"
      "10.0.0.6 - - [04/Dec/2026:10:00:05 +0000] \"-\" 400 0\n"
      "10.0.0.7 - - [04/Dec/2026:10:00:06 +0000] \"GET /q?a=\\\"b\\\" HTTP/1.1\" 200 7\n";
  const Trace trace = load_trace(Format::access_log, dir.write("access.log", log));
  EXPECT_THAT(trace.keys, ElementsAre(0, 1, 0, 2));
  EXPECT_THAT(trace.sizes, ElementsAre(5120, 0, 5200, 7));
  EXPECT_EQ(trace.skipped_lines, 3U);
}

TEST(AccessLogFormat, AbsoluteTargetIsOriginForm) {
  ScratchDir dir;
  const std::string log =
      "10.0.0.1 - - [04/Dec/2026:10:00:00 +0000] \"GET /c?q=1 HTTP/1.1\" 200 10\n"
      "10.0.0.2 - - [04/Dec/2026:10:00:01 +0000] \"GET http://example.org/c?q=1 HTTP/1.1\" 200 10\n"
      "10.0.0.3 - - [04/Dec/2026:10:00:02 +0000] \"GET HTTPS://example.org HTTP/1.1\" 200 10\n"
      "10.0.0.4 - - [04/Dec/2026:10:00:03 +0000] \"GET / HTTP/1.1\" 200 10\n"
      "10.0.0.5 - - [04/Dec/2026:10:00:04 +0000] \"GET http://example.org?x=1 HTTP/1.1\" 200 10\n"
      "10.0.0.6 - - [04/Dec/2026:10:00:05 +0000] \"GET /?x=1 HTTP/1.1\" 200 10\n";
  const Trace trace = load_trace(Format::access_log, dir.write("access.log", log));
  EXPECT_THAT(trace.keys, ElementsAre(0, 0, 1, 1, 2, 2));
}

TEST(AccessLogFormat, LineWithoutStatusNamesLine) {
  ScratchDir dir;
  const std::string path = dir.write(
      "access.log",
      "10.0.0.1 - - [04/Dec/2026:10:00:00 +0000] \"GET /home HTTP/1.1\" 200 5120\n"
      "10.0.0.1 - - [04/Dec/2026:10:00:00 +0000] \"GET /home HTTP/1.1\"\n");
  EXPECT_THAT(load_error(Format::access_log, path), HasSubstr(path + ":2:"));
}

TEST(AccessLogFormat, UnquotedRequestNamesLine) {
  ScratchDir dir;
  const std::string path = dir.write("access.log", "GET /home 200 5120\n");
  EXPECT_THAT(load_error(Format::access_log, path), HasSubstr(path + ":1:"));
}

TEST(ZipfWorkload, SameSeedSameTrace) {
  const std::string spec = "alpha=0.9,keys=1000,requests=5000,flood=0.2,seed=7";
  const Trace first = load_trace(Format::zipf, spec);
  const Trace second = load_trace(Format::zipf, spec);
  EXPECT_EQ(first.keys, second.keys);
  EXPECT_EQ(first.size(), 5000U);
  EXPECT_NE(load_trace(Format::zipf, spec + ",seed=8").keys, first.keys);
}

TEST(ZipfWorkload, FloodKeysNeverRepeat) {
  const Trace trace = load_trace(Format::zipf, "keys=1000,requests=100000,flood=0.3,seed=1");
  // Flood keys are numbered from keys upwards, one per flood request.
  const std::uint64_t floods = trace.key_count - 1000U;
  EXPECT_NEAR(static_cast<double>(floods) / 100000.0, 0.3, 0.01);
  std::vector<int> seen(trace.key_count, 0);
  for (const std::uint32_t key : trace.keys) {
    ++seen[key];
  }
  for (std::uint32_t key = 1000; key < trace.key_count; ++key) {
    ASSERT_EQ(seen[key], 1) << "flood key " << key;
  }
  // With alpha 0.99 the most popular key takes several percent of requests.
  EXPECT_GT(seen[0], 3000);

  const auto drawn = static_cast<std::uint32_t>(std::count_if(seen.begin(), seen.end(),
                                                              [](int uses) { return uses > 0; }));
  EXPECT_EQ(trace.distinct_keys, drawn);
}

TEST(ZipfWorkload, InvalidParametersAreReported) {
  EXPECT_THAT(load_error(Format::zipf, "alpha=0.99,size=3"), HasSubstr("unknown parameter 'size'"));
  EXPECT_THAT(load_error(Format::zipf, "flood=1.5"), HasSubstr("flood must be"));
  EXPECT_THAT(load_error(Format::zipf, "keys=0"), HasSubstr("keys must be"));
  EXPECT_THAT(load_error(Format::zipf, "requests=ten"), HasSubstr("not a number"));
}

}  // namespace
}  // namespace viewcache::sim
