#pragma once

// Splitting a ByteSource into lines (text traces) or fixed-size records
// (binary traces), keeping the line number or byte offset for error messages.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "byte_source.hpp"

namespace viewcache::sim {

class LineReader {
 public:
  // path is only for error messages.
  LineReader(std::unique_ptr<ByteSource> source, std::string path);

  // Returns the next line without its '\n', or nullopt at the end. A last
  // line without '\n' is returned too. The view is valid until the next call.
  // Throws InputError for a line longer than max_line_bytes, which is what a
  // binary file read as text looks like.
  [[nodiscard]] std::optional<std::string_view> next();

  // The 1-based number of the line next() returned last.
  [[nodiscard]] std::uint64_t line_number() const noexcept { return line_number_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

  static constexpr std::size_t max_line_bytes = 64 * 1024 * 1024;

 private:
  std::unique_ptr<ByteSource> source_;
  std::string path_;
  std::vector<char> buffer_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  bool eof_ = false;
  std::uint64_t line_number_ = 0;
};

class RecordReader {
 public:
  // record_bytes is the size of one record, and format the format's name
  // for messages.
  RecordReader(std::unique_ptr<ByteSource> source, std::string path, std::size_t record_bytes,
               std::string format);

  // Returns the next record, or nullptr at the end. The pointer is valid until
  // the next call. Throws InputError when the data ends inside a record.
  [[nodiscard]] const unsigned char* next();

  // The offset in the decompressed data of the record next() returned last.
  [[nodiscard]] std::uint64_t record_offset() const noexcept { return offset_ - record_bytes_; }

 private:
  std::unique_ptr<ByteSource> source_;
  std::string path_;
  std::size_t record_bytes_;
  std::string format_;
  std::vector<char> buffer_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  std::uint64_t offset_ = 0;
};

}  // namespace viewcache::sim
