#include "pages.hpp"

#include <fmt/format.h>

#include <charconv>
#include <numeric>
#include <optional>
#include <utility>
#include <vector>

#include "catalog.hpp"

namespace lms {
namespace {

constexpr std::string_view html_content_type = "text/html; charset=utf-8";

constexpr std::string_view login_form = R"(<form class="login" method="post" action="/login">
<label>User name <input name="user" required maxlength="32" autocomplete="username"></label>
<button type="submit">Log in</button>
</form>)";

std::string_view audience_name(viewcache::Audience audience) noexcept {
  return audience == viewcache::Audience::signed_in ? "auth" : "anon";
}

// Wraps main_html in the site's page frame. title and main_html must already
// be HTML. The account area is the login form for anonymous pages and the
// user menu marker for signed-in ones.
std::string layout(viewcache::Audience audience, std::string_view title,
                   std::string_view main_html) {
  const std::string_view account =
      audience == viewcache::Audience::signed_in ? user_menu_marker : login_form;
  return fmt::format(R"(<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{} - Viewcache LMS</title></head>
<body data-audience="{}">
<header>
<a class="brand" href="/home">Viewcache LMS</a>
<nav><a href="/course/explore?page=1">Explore</a> <a href="/dashboard">Dashboard</a></nav>
{}
</header>
<main>
{}
</main>
</body>
</html>
)",
                     title, audience_name(audience), account, main_html);
}

// A page without an audience, for responses that are never cached.
std::string plain_layout(std::string_view title, std::string_view main_html) {
  return fmt::format(R"(<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{} - Viewcache LMS</title></head>
<body>
<main>
{}
</main>
</body>
</html>
)",
                     title, main_html);
}

viewcache::Page html_page(int status, std::string body, std::vector<std::string> tags = {}) {
  return viewcache::Page{
      .status = status,
      .headers = {{"Content-Type", std::string(html_content_type)}},
      .body = std::move(body),
      .tags = std::move(tags),
  };
}

// Appends a list item that links to course, and the course's tag to tags, so
// an edit of the course invalidates the page that lists it.

void append_course_item(const Course& course, std::string& out, std::vector<std::string>& tags) {
  fmt::format_to(std::back_inserter(out),
                 "<li><a href=\"/course/{}\">{}</a> by {}</li>\n", course.id,
                 escape_html(course.title), escape_html(course.teacher));
  tags.push_back(course_tag(course.id));
}

// Picks three courses for user from a sum of the name's bytes, so each user
// has a stable list that often differs from other users' lists.
std::string enrolled_courses_html(const Catalog& catalog, std::string_view user,
                                  std::vector<std::string>& tags) {
  const std::size_t seed = std::accumulate(
      user.begin(), user.end(), std::size_t{0},
      [](std::size_t sum, char c) { return sum + static_cast<unsigned char>(c); });

  std::string items;
  for (std::size_t i = 0; i < 3; ++i) {
    append_course_item(catalog.at(seed + 3 * i), items, tags);
  }
  return items;
}

}  // namespace

std::string escape_html(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out.append("&amp;");
        break;
      case '<':
        out.append("&lt;");
        break;
      case '>':
        out.append("&gt;");
        break;
      case '"':
        out.append("&quot;");
        break;
      case '\'':
        out.append("&#39;");
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

void append_user_menu(std::string_view user, std::string& out) {
  const std::string name = escape_html(user);
  fmt::format_to(std::back_inserter(out),
                 R"(<div class="user-menu" data-user="{}">Signed in as <strong>{}</strong>
<form method="post" action="/logout"><button type="submit">Log out</button></form>
</div>)",
                 name, name);
}

viewcache::Page render_home(const Catalog& catalog, viewcache::Audience audience) {
  std::string main_html =
      audience == viewcache::Audience::signed_in
          ? std::string("<h1>Welcome back</h1>\n<p>Pick up where you left off, or explore new "
                        "courses.</p>\n")
          : std::string("<h1>Learn at your own pace</h1>\n<p>Log in to track your progress "
                        "across courses.</p>\n");
  main_html.append("<h2>Popular courses</h2>\n<ul>\n");
  std::vector<std::string> tags;
  for (const Course& course : catalog.page(1)) {
    append_course_item(course, main_html, tags);
  }
  main_html.append("</ul>");
  return html_page(200, layout(audience, "Home", main_html), std::move(tags));
}

viewcache::Page render_explore(const Catalog& catalog, viewcache::Audience audience,
                               std::string_view page_number) {
  int page = 1;
  if (!page_number.empty()) {
    const char* const end = page_number.data() + page_number.size();
    const auto [parsed_end, error] = std::from_chars(page_number.data(), end, page);
    if (error != std::errc{} || parsed_end != end) {
      return html_page(400, layout(audience, "Invalid page",
                                   fmt::format("<h1>Invalid page</h1>\n<p>The page number "
                                               "&quot;{}&quot; is not a whole number.</p>",
                                               escape_html(page_number))));
    }
  }
  if (page < 1 || page > explore_page_count) {
    return html_page(404, layout(audience, "Page not found",
                                 fmt::format("<h1>Page not found</h1>\n<p>The course list has "
                                             "pages 1 to {}.</p>",
                                             explore_page_count)));
  }

  std::string main_html = fmt::format("<h1>Explore courses</h1>\n<p>Page {} of {}</p>\n<ul>\n",
                                      page, explore_page_count);
  std::vector<std::string> tags;
  for (const Course& course : catalog.page(page)) {
    append_course_item(course, main_html, tags);
  }
  main_html.append("</ul>\n<nav class=\"pages\">");
  for (int other = 1; other <= explore_page_count; ++other) {
    fmt::format_to(std::back_inserter(main_html), " <a href=\"/course/explore?page={}\">{}</a>",
                   other, other);
  }
  main_html.append("</nav>");
  return html_page(200, layout(audience, "Explore", main_html), std::move(tags));
}

viewcache::Page render_course(const Catalog& catalog, viewcache::Audience audience,
                              std::string_view course_id) {
  const std::optional<Course> course = catalog.find(course_id);
  if (!course) {
    return html_page(404, layout(audience, "Course not found",
                                 fmt::format("<h1>Course not found</h1>\n<p>There is no course "
                                             "with id &quot;{}&quot;.</p>",
                                             escape_html(course_id))));
  }

  const std::string title = escape_html(course->title);
  const std::string_view call_to_action = audience == viewcache::Audience::signed_in
                                              ? "<button type=\"button\">Enroll</button>"
                                              : "<p>Log in to enroll.</p>";
  return html_page(200, layout(audience, title,
                               fmt::format("<h1>{}</h1>\n<p>Taught by {}.</p>\n<p>{}</p>\n{}",
                                           title, escape_html(course->teacher),
                                           escape_html(course->summary), call_to_action)),
                   {course_tag(course->id)});
}

viewcache::Page render_content(viewcache::Audience audience, std::string_view path,
                               std::string_view query,
                               const std::multimap<std::string, std::string>& parameters) {
  std::string main_html = fmt::format(
      R"(<h1>Content page</h1>
<p>This page shows the request it was rendered for. Requests that differ only in how
unreserved characters are percent-encoded (%41 and A) are the same resource (RFC 3986,
section 6.2.2), so they share one stored page, which shows the first request's spelling.</p>
<dl>
<dt>Path as received</dt><dd><code id="request-path">{}</code></dd>
<dt>Query as received</dt><dd><code id="request-query">{}</code></dd>
</dl>
<h2>Decoded query parameters</h2>
)",
      escape_html(path), escape_html(query));

  if (parameters.empty()) {
    main_html.append("<p>None.</p>");
  } else {
    main_html.append("<ul>\n");
    for (const auto& [name, value] : parameters) {
      fmt::format_to(std::back_inserter(main_html), "<li><code>{}</code> = <code>{}</code></li>\n",
                     escape_html(name), escape_html(value));
    }
    main_html.append("</ul>");
  }
  return html_page(200, layout(audience, "Content page", main_html));
}

viewcache::Page render_dashboard(const Catalog& catalog, const viewcache::Viewer& viewer) {
  if (viewer.audience != viewcache::Audience::signed_in) {
    return html_page(200, layout(viewer.audience, "Dashboard",
                                 "<h1>Dashboard</h1>\n<p>Log in to see your courses.</p>"));
  }

  const std::string name = escape_html(viewer.user_id);
  std::vector<std::string> tags;
  const std::string items = enrolled_courses_html(catalog, viewer.user_id, tags);
  return html_page(
      200, layout(viewer.audience, "Dashboard",
                  fmt::format(
                      "<h1>Your courses, <span class=\"owner\">{}</span></h1>\n<ul>\n{}</ul>",
                      name, items)),
      std::move(tags));
}

std::string render_login_error(std::string_view user) {
  if (user.empty()) {
    return plain_layout("Missing user name",
                        fmt::format(R"(<h1>Missing user name</h1>
<p>The form has no user field, or it is empty. Send the field user with 1 to 32 characters
from A-Z, a-z, 0-9, '_', '.' and '-'.</p>
{}
<p><a href="/home">Back to the home page</a></p>)",
                                    login_form));
  }
  return plain_layout(
      "Invalid user name",
      fmt::format(R"(<h1>Invalid user name</h1>
<p>The user name &quot;{}&quot; is invalid. Use 1 to 32 characters from A-Z, a-z, 0-9, '_', '.'
and '-'.</p>
{}
<p><a href="/home">Back to the home page</a></p>)",
                  escape_html(user), login_form));
}

std::string render_edit_error(std::string_view heading, std::string_view message) {
  const std::string title = escape_html(heading);
  return plain_layout(title, fmt::format("<h1>{}</h1>\n<p>{}</p>", title, escape_html(message)));
}

std::string render_not_found() {
  return plain_layout("Not found",
                      "<h1>Not found</h1>\n<p>No page has this address. Start at "
                      "<a href=\"/home\">the home page</a>.</p>");
}

}  // namespace lms
