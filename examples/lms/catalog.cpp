#include "catalog.hpp"

#include <fmt/format.h>

#include <mutex>
#include <utility>

namespace lms {

std::string course_tag(std::string_view id) { return fmt::format("course:{}", id); }

Catalog::Catalog()
    : courses_{
          {"1", "Caching for web developers", "Mira Okafor",
           "Keys, TTLs and what a cache must never share."},
          {"2", "HTTP semantics", "Tomas Lind",
           "Methods, status codes and the headers caches read."},
          {"3", "Modern C++ in practice", "Priya Raman",
           "Value types, RAII and the standard library."},
          {"4", "Concurrency basics", "Jonas Weber", "Threads, mutexes and the memory model."},
          {"5", "Databases from the inside", "Lena Costa", "Pages, indexes and transactions."},
          {"6", "Networking with sockets", "Kai Nakamura", "TCP, non-blocking I/O and timeouts."},
          {"7", "Security for web applications", "Sara Haddad", "Sessions, cookies and CSRF."},
          {"8", "Testing that finds bugs", "Omar Reyes", "Unit, property and end-to-end tests."},
          {"9", "Measuring performance", "Ines Duarte", "Latency, throughput and flame graphs."},
      } {}

std::optional<Course> Catalog::find(std::string_view id) const {
  std::shared_lock lock(mutex_);
  for (const Course& course : courses_) {
    if (course.id == id) {
      return course;
    }
  }
  return std::nullopt;
}

std::vector<Course> Catalog::page(int page) const {
  if (page < 1 || page > explore_page_count) {
    return {};
  }
  const auto first = static_cast<std::size_t>(page - 1) * courses_per_page;

  std::shared_lock lock(mutex_);
  std::vector<Course> courses;
  for (std::size_t i = first; i < first + courses_per_page && i < courses_.size(); ++i) {
    courses.push_back(courses_[i]);
  }
  return courses;
}

Course Catalog::at(std::size_t index) const {
  std::shared_lock lock(mutex_);
  return courses_[index % courses_.size()];
}

bool Catalog::set_title(std::string_view id, std::string title) {
  std::unique_lock lock(mutex_);
  for (Course& course : courses_) {
    if (course.id == id) {
      course.title = std::move(title);
      return true;
    }
  }
  return false;
}

}  // namespace lms
