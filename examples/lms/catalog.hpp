#pragma once

// The course catalog of the example site. It starts from fixed data, so every
// render of a page produces the same bytes and a wrong page is easy to spot.
// An administrator can change a course's title (POST /course/<id>/edit), so
// the catalog is guarded by a lock and hands out copies.

#include <cstddef>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace lms {

struct Course {
  std::string id;
  std::string title;
  std::string teacher;
  std::string summary;
};

inline constexpr std::size_t course_count = 9;
inline constexpr std::size_t courses_per_page = 3;
inline constexpr int explore_page_count =
    static_cast<int>((course_count + courses_per_page - 1) / courses_per_page);

// Returns the invalidation tag of every cached page that shows the course
// with id, such as "course:1".
[[nodiscard]] std::string course_tag(std::string_view id);

// Thread-safe: readers share a lock, an edit takes it alone.
class Catalog {
 public:
  Catalog();

  // Returns a copy of the course with id, or std::nullopt when there is none.
  [[nodiscard]] std::optional<Course> find(std::string_view id) const;

  // Returns copies of the courses on explore page number page, from 1 to
  // explore_page_count; an empty list for other numbers.
  [[nodiscard]] std::vector<Course> page(int page) const;

  // Returns a copy of the course at index % course_count.
  [[nodiscard]] Course at(std::size_t index) const;

  // Sets the title of the course with id. Returns false when there is none.
  bool set_title(std::string_view id, std::string title);

 private:
  mutable std::shared_mutex mutex_;
  std::vector<Course> courses_;
};

}  // namespace lms
