#include "line_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <span>

#include "errors.hpp"

namespace viewcache::sim {
namespace {

constexpr std::size_t read_size = 1024 * 1024;

}  // namespace

LineReader::LineReader(std::unique_ptr<ByteSource> source, std::string path)
    : source_(std::move(source)), path_(std::move(path)), buffer_(read_size) {}

std::optional<std::string_view> LineReader::next() {
  std::size_t scanned = begin_;
  for (;;) {
    const char* start = buffer_.data() + scanned;
    const auto* newline = static_cast<const char*>(std::memchr(start, '\n', end_ - scanned));
    if (newline != nullptr) {
      const auto length = static_cast<std::size_t>(newline - (buffer_.data() + begin_));
      std::string_view line(buffer_.data() + begin_, length);
      begin_ += length + 1;
      ++line_number_;
      return line;
    }
    if (eof_) {
      if (begin_ == end_) {
        return std::nullopt;
      }
      std::string_view line(buffer_.data() + begin_, end_ - begin_);
      begin_ = end_;
      ++line_number_;
      return line;
    }

    // No newline in what is buffered: keep the partial line, read more.
    const std::size_t pending = end_ - begin_;
    if (pending >= max_line_bytes) {
      throw InputError(fmt::format(
          "{}:{}: the line is longer than {} MiB; is this a binary trace? pass its --format "
          "(cache2k or int64)",
          path_, line_number_ + 1, max_line_bytes / (1024 * 1024)));
    }
    std::memmove(buffer_.data(), buffer_.data() + begin_, pending);
    begin_ = 0;
    end_ = pending;
    scanned = pending;
    if (buffer_.size() - end_ < read_size) {
      buffer_.resize(std::max(buffer_.size() * 2, end_ + read_size));
    }
    const std::size_t count = source_->read(std::span(buffer_).subspan(end_));
    end_ += count;
    eof_ = count == 0;
  }
}

RecordReader::RecordReader(std::unique_ptr<ByteSource> source, std::string path,
                           std::size_t record_bytes, std::string format)
    : source_(std::move(source)),
      path_(std::move(path)),
      record_bytes_(record_bytes),
      format_(std::move(format)),
      buffer_(read_size) {}

const unsigned char* RecordReader::next() {
  while (end_ - begin_ < record_bytes_) {
    const std::size_t pending = end_ - begin_;
    std::memmove(buffer_.data(), buffer_.data() + begin_, pending);
    begin_ = 0;
    end_ = pending;
    const std::size_t count = source_->read(std::span(buffer_).subspan(end_));
    if (count == 0) {
      if (pending == 0) {
        return nullptr;
      }
      throw InputError(fmt::format(
          "{}: byte offset {}: the data ends {} bytes into a {}-byte record; a {} trace is a "
          "sequence of {}-byte big-endian integers, so the file is truncated or in another "
          "format (check --format)",
          path_, offset_, pending, record_bytes_, format_, record_bytes_));
    }
    end_ += count;
  }
  const auto* record = reinterpret_cast<const unsigned char*>(buffer_.data() + begin_);
  begin_ += record_bytes_;
  offset_ += record_bytes_;
  return record;
}

}  // namespace viewcache::sim
