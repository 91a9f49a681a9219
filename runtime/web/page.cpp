#include "runtime/web/page.h"

#include "report_assets.h"
#include "web_assets.h"

namespace cicada::web {

namespace {

constexpr std::string_view kJavaScript = "text/javascript; charset=utf-8";
constexpr std::string_view kCss = "text/css; charset=utf-8";

}  // namespace

std::string_view page_html() { return assets::kIndexHtml; }

std::optional<PageAsset> page_asset(std::string_view path) {
  if (path == "/assets/app.js") return PageAsset{kJavaScript, assets::kAppJs};
  if (path == "/assets/htm-preact.js") return PageAsset{kJavaScript, assets::kHtmPreactJs};
  if (path == "/assets/app.css") return PageAsset{kCss, assets::kAppCss};
  // The charts' library is the HTML report's.
  if (path == "/assets/uplot.js") return PageAsset{kJavaScript, report::assets::kUplotJs};
  if (path == "/assets/uplot.css") return PageAsset{kCss, report::assets::kUplotCss};
  return std::nullopt;
}

}  // namespace cicada::web
