#pragma once

// Reading a trace file as a stream of bytes, decompressing it on the fly.
// The compression is recognised by the file's first bytes (its magic
// number), so a compressed file without a .zst, .xz or .gz suffix is still
// decompressed. A file named .xz that is not an xz stream is reported
// instead of being parsed as text. Decompression streams through libzstd,
// liblzma and zlib, so the whole file is never in memory, and no external
// program is run.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace viewcache::sim {

enum class Compression { none, zstd, xz, gzip };

[[nodiscard]] std::string_view compression_name(Compression compression) noexcept;

// Returns the compression whose magic number starts head, or none.
[[nodiscard]] Compression detect_compression(std::span<const unsigned char> head) noexcept;

class ByteSource {
 public:
  virtual ~ByteSource() = default;

  // Fills buffer with up to buffer.size() decompressed bytes and returns how
  // many. Returns 0 only at the end of the data. Throws InputError when the
  // file cannot be read or the compressed stream is corrupt or truncated.
  virtual std::size_t read(std::span<char> buffer) = 0;
};

// Opens path and returns its decompressed bytes as a stream. Throws
// InputError when the file is missing, unreadable or a directory, or when
// its name promises a compression that its content does not have.
[[nodiscard]] std::unique_ptr<ByteSource> open_byte_source(const std::string& path);

}  // namespace viewcache::sim
