#pragma once
// The web UI's page and its files, embedded in the binary at build time (runtime/web/page).
#include <optional>
#include <string_view>

namespace cicada::web {

std::string_view page_html();

struct PageAsset {
  std::string_view content_type;
  std::string_view body;
};
// The file at `path` ("/assets/app.js"), or nothing.
std::optional<PageAsset> page_asset(std::string_view path);

}  // namespace cicada::web
