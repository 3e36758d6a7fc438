#include "byte_source.hpp"

#include <fmt/format.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "errors.hpp"

namespace viewcache::sim {
namespace {

constexpr std::size_t compressed_buffer_size = 256 * 1024;

// The file itself, unbuffered beyond what the caller asks for.
class FileReader {
 public:
  explicit FileReader(const std::string& path) : path_(path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) {
      const int error = errno;
      throw InputError(fmt::format(
          "cannot open trace file '{}': {}; check the path given to --trace", path,
          std::strerror(error)));
    }
    if (S_ISDIR(info.st_mode)) {
      throw InputError(fmt::format(
          "trace file '{}' is a directory; pass one trace file to --trace", path));
    }
    file_ = std::fopen(path.c_str(), "rb");
    if (file_ == nullptr) {
      const int error = errno;
      throw InputError(fmt::format("cannot open trace file '{}': {}; check its permissions",
                                   path, std::strerror(error)));
    }
  }

  ~FileReader() {
    if (file_ != nullptr) {
      std::fclose(file_);
    }
  }

  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  std::size_t read(std::span<char> buffer) {
    const std::size_t count = std::fread(buffer.data(), 1, buffer.size(), file_);
    if (count < buffer.size() && std::ferror(file_) != 0) {
      const int error = errno;
      throw InputError(fmt::format("cannot read trace file '{}' at byte offset {}: {}", path_,
                                   offset_ + count, std::strerror(error)));
    }
    offset_ += count;
    return count;
  }

  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] std::uint64_t offset() const noexcept { return offset_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  std::uint64_t offset_ = 0;
};

// Reads the file as it is, after the bytes already peeked for the magic number.
class PlainSource final : public ByteSource {
 public:
  PlainSource(std::unique_ptr<FileReader> file, std::vector<char> head)
      : file_(std::move(file)), head_(std::move(head)) {}

  std::size_t read(std::span<char> buffer) override {
    if (head_position_ < head_.size()) {
      const std::size_t count = std::min(buffer.size(), head_.size() - head_position_);
      std::copy_n(head_.begin() + static_cast<std::ptrdiff_t>(head_position_), count,
                  buffer.begin());
      head_position_ += count;
      return count;
    }
    return file_->read(buffer);
  }

 private:
  std::unique_ptr<FileReader> file_;
  std::vector<char> head_;
  std::size_t head_position_ = 0;
};

// The compressed input that every decoder pulls from: the peeked head first,
// then the rest of the file.
class CompressedInput {
 public:
  CompressedInput(std::unique_ptr<FileReader> file, std::vector<char> head)
      : file_(std::move(file)), buffer_(std::max(head.size(), compressed_buffer_size)) {
    std::copy(head.begin(), head.end(), buffer_.begin());
    size_ = head.size();
  }

  // Reads more compressed bytes when all given out were consumed. Returns
  // false at the end of the file.
  bool refill() {
    if (position_ < size_) {
      return true;
    }
    if (eof_) {
      return false;
    }
    consumed_before_ += size_;
    size_ = file_->read(buffer_);
    position_ = 0;
    eof_ = size_ == 0;
    return !eof_;
  }

  [[nodiscard]] const unsigned char* data() const noexcept {
    return reinterpret_cast<const unsigned char*>(buffer_.data()) + position_;
  }
  [[nodiscard]] std::size_t available() const noexcept { return size_ - position_; }
  void consume(std::size_t count) noexcept { position_ += count; }
  [[nodiscard]] bool eof() const noexcept { return eof_ && position_ == size_; }

  // The offset in the compressed file of the next byte to decode.
  [[nodiscard]] std::uint64_t offset() const noexcept { return consumed_before_ + position_; }
  [[nodiscard]] const std::string& path() const noexcept { return file_->path(); }

  [[noreturn]] void fail(Compression compression, std::string_view detail) const {
    throw InputError(fmt::format(
        "corrupt {} stream in trace file '{}' near compressed byte offset {}: {}; the file is "
        "damaged or truncated, so fetch or compress it again",
        compression_name(compression), path(), offset(), detail));
  }

 private:
  std::unique_ptr<FileReader> file_;
  std::vector<char> buffer_;
  std::size_t size_ = 0;
  std::size_t position_ = 0;
  std::uint64_t consumed_before_ = 0;
  bool eof_ = false;
};

class ZstdSource final : public ByteSource {
 public:
  explicit ZstdSource(CompressedInput input)
      : input_(std::move(input)), stream_(ZSTD_createDStream()) {
    if (stream_ == nullptr) {
      throw std::bad_alloc();
    }
    ZSTD_initDStream(stream_);
  }

  ~ZstdSource() override { ZSTD_freeDStream(stream_); }

  ZstdSource(const ZstdSource&) = delete;
  ZstdSource& operator=(const ZstdSource&) = delete;

  std::size_t read(std::span<char> buffer) override {
    ZSTD_outBuffer out{buffer.data(), buffer.size(), 0};
    while (out.pos == 0) {
      const bool have_input = input_.refill();
      if (!have_input && frame_complete_) {
        return 0;
      }

      // At the end of the file the decoder may still buffer decoded bytes,
      // so it is called once more with no input. If that yields nothing
      // and the frame is not complete, the file is truncated.
      ZSTD_inBuffer in{input_.data(), input_.available(), 0};
      const std::size_t result = ZSTD_decompressStream(stream_, &out, &in);
      input_.consume(in.pos);
      if (ZSTD_isError(result) != 0U) {
        input_.fail(Compression::zstd, ZSTD_getErrorName(result));
      }
      frame_complete_ = result == 0;
      if (!have_input && out.pos == 0 && !frame_complete_) {
        input_.fail(Compression::zstd, "the last frame ends early");
      }
    }
    return out.pos;
  }

 private:
  CompressedInput input_;
  ZSTD_DStream* stream_;
  bool frame_complete_ = true;
};

class XzSource final : public ByteSource {
 public:
  explicit XzSource(CompressedInput input) : input_(std::move(input)) {
    // LZMA_CONCATENATED reads files made by joining several .xz streams, as
    // xz itself does.
    const lzma_ret result = lzma_stream_decoder(&stream_, UINT64_MAX, LZMA_CONCATENATED);
    if (result != LZMA_OK) {
      throw std::bad_alloc();
    }
  }

  ~XzSource() override { lzma_end(&stream_); }

  XzSource(const XzSource&) = delete;
  XzSource& operator=(const XzSource&) = delete;

  std::size_t read(std::span<char> buffer) override {
    if (ended_) {
      return 0;
    }
    stream_.next_out = reinterpret_cast<std::uint8_t*>(buffer.data());
    stream_.avail_out = buffer.size();
    while (stream_.avail_out == buffer.size()) {
      const bool have_input = input_.refill();
      stream_.next_in = input_.data();
      stream_.avail_in = input_.available();
      const lzma_ret result = lzma_code(&stream_, have_input ? LZMA_RUN : LZMA_FINISH);
      input_.consume(input_.available() - stream_.avail_in);
      if (result == LZMA_STREAM_END) {
        ended_ = true;
        break;
      }
      if (result != LZMA_OK) {
        input_.fail(Compression::xz, describe(result));
      }
    }
    return buffer.size() - stream_.avail_out;
  }

 private:
  static std::string_view describe(lzma_ret result) noexcept {
    switch (result) {
      case LZMA_BUF_ERROR: return "the stream ends early";
      case LZMA_DATA_ERROR: return "the compressed data is invalid";
      case LZMA_FORMAT_ERROR: return "the stream header is invalid";
      case LZMA_OPTIONS_ERROR: return "the stream uses unsupported options";
      case LZMA_MEM_ERROR: return "out of memory";
      case LZMA_MEMLIMIT_ERROR: return "the memory limit was reached";
      default: return "liblzma reported an error";
    }
  }

  CompressedInput input_;
  lzma_stream stream_ = LZMA_STREAM_INIT;
  bool ended_ = false;
};

class GzipSource final : public ByteSource {
 public:
  explicit GzipSource(CompressedInput input) : input_(std::move(input)) {
    // 15 + 16: the largest window, and a gzip header and trailer around it.
    if (inflateInit2(&stream_, 15 + 16) != Z_OK) {
      throw std::bad_alloc();
    }
  }

  ~GzipSource() override { inflateEnd(&stream_); }

  GzipSource(const GzipSource&) = delete;
  GzipSource& operator=(const GzipSource&) = delete;

  std::size_t read(std::span<char> buffer) override {
    if (ended_) {
      return 0;
    }
    // zlib counts in uInt, so a huge buffer is filled in parts.
    const std::size_t request = std::min<std::size_t>(buffer.size(), 1U << 30U);
    stream_.next_out = reinterpret_cast<Bytef*>(buffer.data());
    stream_.avail_out = static_cast<uInt>(request);
    while (stream_.avail_out == request) {
      if (!input_.refill()) {
        if (member_started_) {
          input_.fail(Compression::gzip, "the stream ends early");
        }
        ended_ = true;
        break;
      }
      const std::size_t available = std::min<std::size_t>(input_.available(), 1U << 30U);
      stream_.next_in = const_cast<Bytef*>(input_.data());
      stream_.avail_in = static_cast<uInt>(available);
      const int result = inflate(&stream_, Z_NO_FLUSH);
      input_.consume(available - stream_.avail_in);
      member_started_ = true;
      if (result == Z_STREAM_END) {
        // A .gz file may hold several members one after another, as `cat
        // a.gz b.gz` makes; each is decoded in turn.
        member_started_ = false;
        inflateReset(&stream_);
        continue;
      }
      if (result != Z_OK && result != Z_BUF_ERROR) {
        input_.fail(Compression::gzip, stream_.msg != nullptr ? stream_.msg : "zlib error");
      }
    }
    return request - stream_.avail_out;
  }

 private:
  CompressedInput input_;
  z_stream stream_{};
  bool member_started_ = false;
  bool ended_ = false;
};

bool ends_with(std::string_view text, std::string_view suffix) noexcept {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

Compression compression_from_name(std::string_view path) noexcept {
  if (ends_with(path, ".zst")) {
    return Compression::zstd;
  }
  if (ends_with(path, ".xz")) {
    return Compression::xz;
  }
  if (ends_with(path, ".gz")) {
    return Compression::gzip;
  }
  return Compression::none;
}

}  // namespace

std::string_view compression_name(Compression compression) noexcept {
  switch (compression) {
    case Compression::none: return "uncompressed";
    case Compression::zstd: return "zstd";
    case Compression::xz: return "xz";
    case Compression::gzip: return "gzip";
  }
  return "unknown";
}

Compression detect_compression(std::span<const unsigned char> head) noexcept {
  constexpr std::array<unsigned char, 4> zstd_magic{0x28, 0xB5, 0x2F, 0xFD};
  constexpr std::array<unsigned char, 6> xz_magic{0xFD, '7', 'z', 'X', 'Z', 0x00};
  constexpr std::array<unsigned char, 2> gzip_magic{0x1F, 0x8B};
  const auto starts_with = [head](std::span<const unsigned char> magic) {
    return head.size() >= magic.size() && std::equal(magic.begin(), magic.end(), head.begin());
  };
  if (starts_with(zstd_magic)) {
    return Compression::zstd;
  }
  if (starts_with(xz_magic)) {
    return Compression::xz;
  }
  if (starts_with(gzip_magic)) {
    return Compression::gzip;
  }
  return Compression::none;
}

std::unique_ptr<ByteSource> open_byte_source(const std::string& path) {
  auto file = std::make_unique<FileReader>(path);

  // Peek at enough bytes for the longest magic number (xz, 6 bytes).
  std::vector<char> head(6);
  std::size_t peeked = 0;
  while (peeked < head.size()) {
    const std::size_t count = file->read(std::span<char>(head).subspan(peeked));
    if (count == 0) {
      break;
    }
    peeked += count;
  }
  head.resize(peeked);

  const Compression compression = detect_compression(
      std::span(reinterpret_cast<const unsigned char*>(head.data()), head.size()));
  const Compression by_name = compression_from_name(path);
  if (by_name != Compression::none && compression != by_name) {
    throw InputError(fmt::format(
        "trace file '{}' is named like a {} file but does not start with the {} magic number "
        "(it looks {}); it is damaged, or rename it to match its content",
        path, compression_name(by_name), compression_name(by_name),
        compression == Compression::none ? std::string_view("uncompressed")
                                         : compression_name(compression)));
  }

  switch (compression) {
    case Compression::zstd:
      return std::make_unique<ZstdSource>(CompressedInput(std::move(file), std::move(head)));
    case Compression::xz:
      return std::make_unique<XzSource>(CompressedInput(std::move(file), std::move(head)));
    case Compression::gzip:
      return std::make_unique<GzipSource>(CompressedInput(std::move(file), std::move(head)));
    case Compression::none:
      break;
  }
  return std::make_unique<PlainSource>(std::move(file), std::move(head));
}

}  // namespace viewcache::sim
