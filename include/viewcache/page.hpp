#pragma once

// Page: a rendered HTTP response, as render callbacks return it and as the
// store keeps it. A stored page is immutable and shared: a cache hit hands out
// a std::shared_ptr<const Page>, so serving a hit copies no body.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace viewcache {

struct Header {
  std::string name;
  std::string value;
};

// A named hole in a page's body: the marker <!--viewcache:slot NAME--> that a
// render writes where per-reader content goes (a user menu, a CSRF token, a
// cart count). PageCache::cached() with a fill function replaces each marker
// on every response, so per-reader bytes never enter the store.
struct Slot {
  std::string name;
  std::size_t offset = 0;  // where the marker starts in the body
  std::size_t length = 0;  // the marker's length
};

// The text that starts a slot marker; the marker ends at the next "-->".
inline constexpr std::string_view slot_marker_prefix = "<!--viewcache:slot ";

struct Page {
  int status = 200;
  std::vector<Header> headers;
  std::string body;

  // The slot markers in body, in order. PageCache fills this in when it
  // receives a rendered page; a render leaves it empty.
  std::vector<Slot> slots;

  // Invalidation tags, such as "course:1": PageCache::invalidate_tag() drops
  // every stored page that carries the tag. Not an HTTP header, and never sent.
  std::vector<std::string> tags;

  // Returns the value of the first header called name (compared without
  // regard to ASCII case), or an empty view when there is none. The view is
  // valid while the page is alive and its headers are not modified.
  [[nodiscard]] std::string_view header(std::string_view name) const noexcept;

  // Returns true when at least one header is called name (ASCII case-insensitive).
  [[nodiscard]] bool has_header(std::string_view name) const noexcept;

  // Returns the bytes this page occupies in a store: body, header names and
  // values, tags, and the fixed size of the object. The store's byte budget charges
  // this figure.
  [[nodiscard]] std::size_t byte_size() const noexcept;
};

// Returns the valid slot markers in body, in order. A marker's name is 1 to
// 64 characters of a-z, 0-9, '_' and '-'; other comments are left alone.
[[nodiscard]] std::vector<Slot> find_slots(std::string_view body);

// Appends body to out with every slot replaced by what fill(name, out)
// appends. Costs one copy of the body plus the filled text.
template <typename Fill>
void fill_slots(const Page& page, Fill&& fill, std::string& out) {
  // Room for the body and a typical fill per slot, so splicing allocates once.
  constexpr std::size_t typical_fill_bytes = 256;
  out.reserve(out.size() + page.body.size() + page.slots.size() * typical_fill_bytes);
  std::size_t position = 0;
  for (const Slot& slot : page.slots) {
    out.append(page.body, position, slot.offset - position);
    fill(std::string_view{slot.name}, out);
    position = slot.offset + slot.length;
  }
  out.append(page.body, position);
}

}  // namespace viewcache
