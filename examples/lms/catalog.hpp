#pragma once

// The fake course catalog of the example site: fixed data, so every render of
// a page produces the same bytes and a wrong page is easy to spot.

#include <array>
#include <cstddef>
#include <span>
#include <string_view>

namespace lms {

struct Course {
  std::string_view id;
  std::string_view title;
  std::string_view teacher;
  std::string_view summary;
};

inline constexpr std::array<Course, 9> courses{{
    {"1", "Caching for web developers", "Mira Okafor",
     "Keys, TTLs and what a cache must never share."},
    {"2", "HTTP semantics", "Tomas Lind", "Methods, status codes and the headers caches read."},
    {"3", "Modern C++ in practice", "Priya Raman", "Value types, RAII and the standard library."},
    {"4", "Concurrency basics", "Jonas Weber", "Threads, mutexes and the memory model."},
    {"5", "Databases from the inside", "Lena Costa", "Pages, indexes and transactions."},
    {"6", "Networking with sockets", "Kai Nakamura", "TCP, non-blocking I/O and timeouts."},
    {"7", "Security for web applications", "Sara Haddad", "Sessions, cookies and CSRF."},
    {"8", "Testing that finds bugs", "Omar Reyes", "Unit, property and end-to-end tests."},
    {"9", "Measuring performance", "Ines Duarte", "Latency, throughput and flame graphs."},
}};

inline constexpr std::size_t courses_per_page = 3;
inline constexpr int explore_page_count =
    static_cast<int>((courses.size() + courses_per_page - 1) / courses_per_page);

// Returns the course with id, or nullptr when there is none.
[[nodiscard]] constexpr const Course* find_course(std::string_view id) noexcept {
  for (const Course& course : courses) {
    if (course.id == id) {
      return &course;
    }
  }
  return nullptr;
}

// Returns the courses on explore page number page, from 1 to explore_page_count.
[[nodiscard]] constexpr std::span<const Course> courses_on_page(int page) noexcept {
  const auto first = static_cast<std::size_t>(page - 1) * courses_per_page;
  const std::size_t count = first + courses_per_page <= courses.size()
                                ? courses_per_page
                                : courses.size() - first;
  return std::span<const Course>(courses).subspan(first, count);
}

}  // namespace lms
