#include "viewcache/page.hpp"

#include "ascii.hpp"

namespace viewcache {

std::string_view Page::header(std::string_view name) const noexcept {
  for (const Header& header : headers) {
    if (detail::iequals(header.name, name)) {
      return header.value;
    }
  }
  return {};
}

bool Page::has_header(std::string_view name) const noexcept {
  for (const Header& header : headers) {
    if (detail::iequals(header.name, name)) {
      return true;
    }
  }
  return false;
}

std::size_t Page::byte_size() const noexcept {
  std::size_t bytes = sizeof(Page) + body.size() + headers.size() * sizeof(Header) +
                      slots.size() * sizeof(Slot);
  for (const Header& header : headers) {
    bytes += header.name.size() + header.value.size();
  }
  for (const Slot& slot : slots) {
    bytes += slot.name.size();
  }
  bytes += tags.size() * sizeof(std::string);
  for (const std::string& tag : tags) {
    bytes += tag.size();
  }
  return bytes;
}

namespace {

constexpr std::size_t max_slot_name = 64;
constexpr std::string_view slot_marker_suffix = "-->";

bool is_slot_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > max_slot_name) {
    return false;
  }
  for (const char c : name) {
    const bool valid = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!valid) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::vector<Slot> find_slots(std::string_view body) {
  std::vector<Slot> slots;
  std::size_t position = body.find(slot_marker_prefix);
  while (position != std::string_view::npos) {
    const std::size_t name_begin = position + slot_marker_prefix.size();
    const std::size_t end = body.find(slot_marker_suffix, name_begin);
    if (end == std::string_view::npos) {
      break;
    }
    const std::string_view name = body.substr(name_begin, end - name_begin);
    if (is_slot_name(name)) {
      const std::size_t length = end + slot_marker_suffix.size() - position;
      slots.push_back({std::string{name}, position, length});
      position = body.find(slot_marker_prefix, position + length);
    } else {
      position = body.find(slot_marker_prefix, name_begin);
    }
  }
  return slots;
}

}  // namespace viewcache
