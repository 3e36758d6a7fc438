#pragma once

// HTML rendering for the example site. Every render function returns a whole
// viewcache::Page for one audience and never reads the session, so its output
// may be stored under a key that all viewers of that audience share.
//
// The one part of a page that differs between signed-in users, the user menu,
// is left out of the stored page. A signed-in page carries user_menu_marker, a
// viewcache slot, where the menu goes, and PageCache::cached() fills it on
// each response with append_user_menu() (hole punching).

#include <map>
#include <string>
#include <string_view>

#include "catalog.hpp"
#include "viewcache/page.hpp"
#include "viewcache/request.hpp"

namespace lms {

// The slot where a signed-in page gets its user menu. Request data cannot
// produce it, because escape_html() escapes '<'.
inline constexpr std::string_view user_menu_slot = "user-menu";
inline constexpr std::string_view user_menu_marker = "<!--viewcache:slot user-menu-->";

// Escapes &, <, >, " and ' for use in HTML text and quoted attribute values.
[[nodiscard]] std::string escape_html(std::string_view text);

// Appends the user menu for user to out: an element with data-user="<user>",
// the name and a Log out form.
void append_user_menu(std::string_view user, std::string& out);

// The pages that show a course carry its tag (course_tag), so that editing
// the course invalidates them.

[[nodiscard]] viewcache::Page render_home(const Catalog& catalog, viewcache::Audience audience);

// Renders explore page page_number (the raw "page" query parameter; empty
// means 1). A value that is not a whole number gets status 400, a page past
// the end gets 404.
[[nodiscard]] viewcache::Page render_explore(const Catalog& catalog, viewcache::Audience audience,
                                             std::string_view page_number);

// Renders the course with course_id, or a 404 page when there is none.
[[nodiscard]] viewcache::Page render_course(const Catalog& catalog, viewcache::Audience audience,
                                            std::string_view course_id);

// Renders a content page that shows the request it was rendered for: the
// path and query as received (percent-encoded) and the decoded query
// parameters. A page served for the wrong request shows the wrong path.
[[nodiscard]] viewcache::Page render_content(
    viewcache::Audience audience, std::string_view path, std::string_view query,
    const std::multimap<std::string, std::string>& parameters);

// Renders the dashboard. For a signed-in viewer it names the user and lists
// their courses, so it may only be stored under a per-user key.
[[nodiscard]] viewcache::Page render_dashboard(const Catalog& catalog,
                                               const viewcache::Viewer& viewer);

// Renders the body of an error response for the course editor: a heading
// and one sentence, such as the reason for a 403.
[[nodiscard]] std::string render_edit_error(std::string_view heading, std::string_view message);

// Renders the page for a rejected login: the invalid name and the rule.
[[nodiscard]] std::string render_login_error(std::string_view user);

// Renders the body of a 404 response for a path no route matches.
[[nodiscard]] std::string render_not_found();

}  // namespace lms
