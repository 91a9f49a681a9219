#include "runtime/target/endpoints.h"

#include <llhttp.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "runtime/common/json.h"
#include "runtime/common/text.h"

namespace cicada::target {

// The text and JSON helpers shared with the rest of the runtime (runtime/common).
using namespace cicada::common;

namespace {

constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz";

// Large enough that a slice of any size is at most a few appends.
constexpr size_t kPatternSpan = 64 * 1024;

constexpr std::string_view kFixedJsonDocument =
    R"({"name":"cicada target","version":1,"tags":["load","test","http"],"nested":{"ok":true,"ratio":0.5,"empty":null}})";
constexpr std::string_view kServiceStatusDocument = R"({"status":"ok"})";
constexpr std::string_view kHealthDocument = R"({"status":"healthy"})";
constexpr std::string_view kSystemMetricsDocument = R"({"cpu":37.5,"memory":62.25,"disk":71.0})";
constexpr std::string_view kAnalysisDocument =
    R"({"status":"complete","score":87,"findings":[)"
    R"({"component":"cpu","severity":"info","message":"load within limits"},)"
    R"({"component":"memory","severity":"warning","message":"usage above 60%"}],)"
    R"("recommendations":["enable lmcache prefetching"]})";
constexpr std::string_view kLmcacheStatusDocument = R"({"enabled":true,"entries":4096})";
constexpr std::string_view kOptimizeAcceptedDocument = R"({"job":"optimize","status":"accepted"})";
constexpr std::string_view kTemplatesDocument =
    R"([{"id":1,"name":"nightly build","steps":4},{"id":2,"name":"unit tests","steps":2},)"
    R"({"id":3,"name":"deploy staging","steps":5},{"id":4,"name":"database backup","steps":3},)"
    R"({"id":5,"name":"weekly report","steps":2}])";
constexpr std::string_view kAdminStatsDocument = R"({"jobs":1000,"users":25})";

constexpr std::string_view kRedirectedDocument = R"({"redirected":true})";

// zlib's windowBits: the largest window, and +16 for the gzip wrapper instead of zlib's own.
constexpr int kZlibFormatWindowBits = MAX_WBITS;
constexpr int kGzipFormatWindowBits = MAX_WBITS + 16;
constexpr int kZlibMemoryLevel = 8;  // zlib's default

// A valid gzip header (RFC 1952: magic, deflate, no flags, no time, no extra flags, Unix), then a
// deflate block header of the reserved type 3 (0x07: final block, type bits 11), which every
// inflater refuses. The text after it is for whoever looks at the bytes.
constexpr char kCorruptGzipBytes[] =
    "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"
    "\x07"
    "not deflate data";
constexpr std::string_view kCorruptGzipBody(kCorruptGzipBytes, sizeof kCorruptGzipBytes - 1);

// The query key of /cookies/set that holds attributes rather than a cookie.
constexpr std::string_view kCookieAttributesKey = "_attrs";
constexpr std::string_view kTooManyCookies = "at most 50 cookies";
static_assert(kMaxCookiesPerAnswer == 50 && kMaxCookieAttributesBytes == 1024 && kMaxAddedHeaders == 100,
              "the messages of the 400s quote these limits");
constexpr std::string_view kBadCookieName = "a cookie name must be a token";

constexpr std::string_view kApiKeyPrefix = "sk-";
constexpr std::string_view kTitlePrefix = "/api/title/";
constexpr std::string_view kProxyPrefix = "/proxy/";

constexpr std::array<std::string_view, 10> kJobKinds = {
    "nightly build",  "unit tests",   "integration tests", "deploy staging", "deploy production",
    "database backup", "log rotation", "cache warmup",      "weekly report",  "security scan",
};
constexpr std::array<std::string_view, 4> kJobStatuses = {"queued", "running", "succeeded", "failed"};

// Documents for ids 1..count, built once into one buffer, and the JSON array of the first
// `listed` of them.
class NumberedDocuments {
 public:
  template <typename Describe>
  NumberedDocuments(uint64_t count, uint64_t listed, Describe describe) {
    ends_.reserve(count + 1);
    ends_.push_back(0);
    for (uint64_t id = 1; id <= count; ++id) {
      describe(text_, id);
      ends_.push_back(text_.size());
    }
    list_ = '[';
    for (uint64_t id = 1; id <= listed; ++id) {
      if (id > 1) list_ += ',';
      list_ += document(id);
    }
    list_ += ']';
  }

  std::string_view document(uint64_t id) const {
    if (id < 1 || id >= ends_.size()) return {};
    return std::string_view(text_).substr(ends_[id - 1], ends_[id] - ends_[id - 1]);
  }
  std::string_view list() const { return list_; }

 private:
  std::string text_;
  std::vector<size_t> ends_;  // document `id` is text_[ends_[id - 1], ends_[id])
  std::string list_;
};

std::string numbered_name(std::string_view prefix, uint64_t id) {
  std::string name(prefix);
  append_decimal(name, id);
  return name;
}

// Values look arbitrary but are the same in every run, so that tests and checks can rely on them.
uint64_t scrambled(uint64_t id, uint64_t range) { return (id * 7919) % range; }

void describe_item(std::string& out, uint64_t id) {
  const uint64_t cents = 199 + scrambled(id, 10000);
  json::Writer item(out);
  item.begin_object();
  item.field("id", id).field("name", numbered_name("item ", id));
  std::string& price = item.member("price");
  append_decimal(price, cents / 100);
  price += cents % 100 < 10 ? ".0" : ".";
  append_decimal(price, cents % 100);
  item.end_object();
}

void describe_movie(std::string& out, uint64_t id) {
  json::Writer(out).begin_object()
      .field("id", id)
      .field("title", numbered_name("Movie ", id))
      .field("year", kMinMovieYear + scrambled(id, kMaxMovieYear - kMinMovieYear + 1))
      .end_object();
}

std::string job_name(uint64_t id) { return numbered_name(std::string(kJobKinds[(id - 1) % kJobKinds.size()]) + " #", id); }

void describe_job(std::string& out, uint64_t id) {
  json::Writer(out).begin_object()
      .field("id", id)
      .field("name", job_name(id))
      .field("status", kJobStatuses[(id - 1) % kJobStatuses.size()])
      .end_object();
}

const NumberedDocuments& items() {
  static const NumberedDocuments documents(kItemCount, kItemCount, describe_item);
  return documents;
}

const NumberedDocuments& movies() {
  static const NumberedDocuments documents(kMovieCount, 0, describe_movie);
  return documents;
}

struct JobCatalog {
  NumberedDocuments documents{kJobCount, kListedJobCount, describe_job};
  // What /api/search matches against; [0] unused, as ids start at 1.
  std::array<std::string, kListedJobCount + 1> listed_names;

  JobCatalog() {
    for (uint64_t id = 1; id <= kListedJobCount; ++id) listed_names[id] = job_name(id);
  }
};

const JobCatalog& jobs() {
  static const JobCatalog catalog;
  return catalog;
}

// Compresses `text` whole, in the format `window_bits` selects.
std::string zlib_compressed(std::string_view text, int window_bits) {
  z_stream stream{};
  if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, window_bits, kZlibMemoryLevel, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    throw std::runtime_error("zlib cannot start compressing");
  }
  // deflateBound counts the wrapper chosen above, so one deflate() call finishes.
  std::string encoded(deflateBound(&stream, static_cast<uLong>(text.size())), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));  // zlib's API predates const
  stream.avail_in = static_cast<uInt>(text.size());
  stream.next_out = reinterpret_cast<Bytef*>(encoded.data());
  stream.avail_out = static_cast<uInt>(encoded.size());
  const int result = deflate(&stream, Z_FINISH);
  encoded.resize(stream.total_out);
  deflateEnd(&stream);
  if (result != Z_STREAM_END) throw std::runtime_error("zlib cannot compress a fixed document");
  return encoded;
}

// The document behind /gzip or /deflate: which encoding it came with, and the item list, large
// enough (about 4 KB) that decoding it is more than one tiny step.
std::string encoding_document(std::string_view flag, std::string_view encoding) {
  std::string text;
  json::Writer document(text);
  document.begin_object();
  document.field(flag, true).field("encoding", encoding);
  document.member("items") += items().list();
  document.end_object();
  return text;
}

class CompressedText {
 public:
  CompressedText(std::string plain, int window_bits)
      : plain_(std::move(plain)), encoded_(zlib_compressed(plain_, window_bits)), view_{plain_, encoded_} {}
  CompressedText(const CompressedText&) = delete;
  CompressedText& operator=(const CompressedText&) = delete;

  const CompressedDocument& view() const { return view_; }

 private:
  std::string plain_;
  std::string encoded_;
  CompressedDocument view_;  // views into the two above
};

const std::string& generated_pattern() {
  static const std::string pattern = [] {
    std::string text;
    text.reserve(kPatternSpan + kAlphabet.size());
    while (text.size() < kPatternSpan + kAlphabet.size()) text += kAlphabet;
    return text;
  }();
  return pattern;
}

struct QueryPair {
  std::string_view key;
  std::string_view value;  // empty, too, when the pair has no '='
};

// Takes the next `key[=value]` pair off the front of `query`, skipping empty ones ("a=1&&b=2");
// false when none is left.
bool take_query_pair(std::string_view& query, QueryPair& pair) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view text = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (text.empty()) continue;
    const size_t equals = text.find('=');
    pair.key = text.substr(0, equals);
    pair.value = equals == std::string_view::npos ? std::string_view() : text.substr(equals + 1);
    return true;
  }
  return false;
}

// Appends a cookie name decoded from the query; false when it is not a token.
bool append_cookie_name(std::string& lines, std::string_view encoded_name) {
  const size_t start = lines.size();
  append_url_decoded(lines, encoded_name, UrlPart::query);
  return is_http_token(std::string_view(lines).substr(start));
}

bool is_redirect_status(uint64_t status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// Headers whose value decides where a response ends: the target writes them itself, and a
// second copy would make the client read the stream differently from how it was written.
bool is_framing_header(std::string_view name) {
  return equals_ignoring_case(name, "content-length") || equals_ignoring_case(name, "transfer-encoding") ||
         equals_ignoring_case(name, "connection");
}

void append_query_args(std::string& out, std::string_view query) {
  std::vector<std::pair<std::string, std::string>> args;
  for (QueryPair pair; take_query_pair(query, pair);) {
    auto& [key, value] = args.emplace_back();
    append_url_decoded(key, pair.key, UrlPart::query);
    append_url_decoded(value, pair.value, UrlPart::query);
  }
  // Repeated keys: the last value wins, listed where that last one appeared.
  std::unordered_map<std::string_view, size_t> last_index;
  for (size_t i = 0; i < args.size(); ++i) last_index[args[i].first] = i;
  json::Writer object(out);
  object.begin_object();
  for (size_t i = 0; i < args.size(); ++i) {
    if (last_index[args[i].first] == i) object.field(args[i].first, args[i].second);
  }
  object.end_object();
}

void append_headers_object(std::string& out, const HeaderFields& headers) {
  // A repeated header becomes one member with the values joined by ", ", which is what the
  // header means in HTTP. Connections cap the header count, so the quadratic scan stays small.
  json::Writer object(out);
  object.begin_object();
  const auto fields = headers.fields;
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::string_view name = headers.name(fields[i]);
    const bool seen_before =
        std::any_of(fields.begin(), fields.begin() + static_cast<std::ptrdiff_t>(i),
                    [&](const HeaderField& earlier) { return headers.name(earlier) == name; });
    if (seen_before) continue;
    std::string& value = object.member(name);
    value += '"';
    json::append_escaped(value, headers.value(fields[i]));
    for (size_t j = i + 1; j < fields.size(); ++j) {
      if (headers.name(fields[j]) != name) continue;
      value += ", ";
      json::append_escaped(value, headers.value(fields[j]));
    }
    value += '"';
  }
  object.end_object();
}

}  // namespace

RequestTarget split_request_target(std::string_view target) {
  for (const std::string_view scheme : {std::string_view("http://"), std::string_view("https://")}) {
    if (!target.starts_with(scheme)) continue;
    const size_t path_start = target.find_first_of("/?#", scheme.size());
    target = path_start == std::string_view::npos ? std::string_view() : target.substr(path_start);
    break;
  }
  target = target.substr(0, target.find('#'));
  const size_t question = target.find('?');
  if (question == std::string_view::npos) return {target.empty() ? "/" : target, {}};
  const std::string_view path = target.substr(0, question);
  return {path.empty() ? "/" : path, target.substr(question + 1)};
}

Route route_path(std::string_view path) {
  struct Exact {
    std::string_view path;
    Endpoint endpoint;
    std::string_view document = {};
  };
  // The monitoring agent's paths answer with and without their trailing slash.
  static constexpr Exact kExact[] = {
      {"/", Endpoint::root},
      {"/json", Endpoint::fixed_json, kFixedJsonDocument},
      {"/echo", Endpoint::echo},
      {"/login", Endpoint::login},
      {"/items", Endpoint::items},
      {"/close", Endpoint::close},
      {"/api/validate-key", Endpoint::validate_key},
      {"/status", Endpoint::fixed_json, kServiceStatusDocument},
      {"/health/", Endpoint::fixed_json, kHealthDocument},
      {"/health", Endpoint::fixed_json, kHealthDocument},
      {"/system/metrics", Endpoint::fixed_json, kSystemMetricsDocument},
      {"/system/metrics/", Endpoint::fixed_json, kSystemMetricsDocument},
      {"/analysis/", Endpoint::fixed_json, kAnalysisDocument},
      {"/analysis", Endpoint::fixed_json, kAnalysisDocument},
      {"/lmcache/status", Endpoint::fixed_json, kLmcacheStatusDocument},
      {"/lmcache/status/", Endpoint::fixed_json, kLmcacheStatusDocument},
      {"/optimize/run", Endpoint::optimize},
      {"/optimize/run/", Endpoint::optimize},
      {"/api/jobs", Endpoint::jobs},
      {"/api/templates", Endpoint::fixed_json, kTemplatesDocument},
      {"/api/admin/stats", Endpoint::admin_stats},
      {"/api/search", Endpoint::search},
      {"/anything", Endpoint::echo},
      {"/redirect-to", Endpoint::redirect_to},
      {"/redirect-loop", Endpoint::redirect_loop},
      {"/cookies", Endpoint::cookies},
      {"/cookies/set", Endpoint::set_cookies},
      {"/cookies/delete", Endpoint::delete_cookies},
      {"/gzip", Endpoint::gzip},
      {"/gzip/corrupt", Endpoint::corrupt_gzip},
      {"/deflate", Endpoint::deflate},
      {"/response-headers", Endpoint::response_headers},
  };
  for (const auto& entry : kExact) {
    if (path == entry.path) return {entry.endpoint, entry.document, std::nullopt};
  }
  struct Prefixed {
    std::string_view prefix;
    Endpoint endpoint;
  };
  static constexpr Prefixed kNumbered[] = {
      {"/status/", Endpoint::status},       {"/delay/", Endpoint::delay},  {"/bytes/", Endpoint::bytes},
      {"/chunked/", Endpoint::chunked},     {"/items/", Endpoint::item},   {"/api/id/", Endpoint::movie},
      {"/api/jobs/", Endpoint::job},        {"/proxy/fail/", Endpoint::proxy_failure},
      {"/redirect/", Endpoint::redirect},   {"/absolute-redirect/", Endpoint::absolute_redirect},
  };
  for (const auto& entry : kNumbered) {
    if (!path.starts_with(entry.prefix)) continue;
    const std::string_view text = path.substr(entry.prefix.size());
    return {entry.endpoint, text, parse_decimal(text)};
  }
  // Whatever follows these is the endpoint's to interpret.
  static constexpr Prefixed kOpenEnded[] = {
      {"/anything/", Endpoint::echo},
      {"/basic-auth/", Endpoint::basic_auth},
  };
  for (const auto& entry : kOpenEnded) {
    if (path.starts_with(entry.prefix)) return {entry.endpoint, path.substr(entry.prefix.size()), std::nullopt};
  }
  if (path.starts_with(kTitlePrefix)) {
    // The year is the last segment, so a title may hold '/' too.
    const std::string_view rest = path.substr(kTitlePrefix.size());
    const size_t slash = rest.rfind('/');
    if (slash == std::string_view::npos || slash == 0) return {};
    return {Endpoint::movie_by_title, rest.substr(0, slash), parse_decimal(rest.substr(slash + 1))};
  }
  if (path.starts_with(kProxyPrefix)) {
    return {Endpoint::proxy, path.substr(kProxyPrefix.size() - 1), std::nullopt};  // keeps the '/'
  }
  return {};
}

std::optional<std::string_view> method_not_allowed(Endpoint endpoint, uint8_t method) {
  const bool get = method == HTTP_GET || method == HTTP_HEAD;
  switch (endpoint) {
    case Endpoint::login:
    case Endpoint::validate_key:
    case Endpoint::optimize:
      if (method == HTTP_POST) return std::nullopt;
      return "Allow: POST\r\n";
    case Endpoint::jobs:
      if (get || method == HTTP_POST) return std::nullopt;
      return "Allow: GET, HEAD, POST\r\n";
    case Endpoint::job:
      if (get || method == HTTP_DELETE) return std::nullopt;
      return "Allow: GET, HEAD, DELETE\r\n";
    default:
      return std::nullopt;
  }
}

bool reads_request_body(Endpoint endpoint, uint8_t method) {
  switch (endpoint) {
    case Endpoint::echo: return true;
    case Endpoint::login:
    case Endpoint::validate_key:
    case Endpoint::jobs: return method == HTTP_POST;
    default: return false;
  }
}

void prepare_documents() {
  items();
  movies();
  jobs();
  generated_pattern();
  gzip_document();
  deflate_document();
}

const CompressedDocument& gzip_document() {
  static const CompressedText document(encoding_document("gzipped", "gzip"), kGzipFormatWindowBits);
  return document.view();
}

const CompressedDocument& deflate_document() {
  static const CompressedText document(encoding_document("deflated", "deflate"), kZlibFormatWindowBits);
  return document.view();
}

std::string_view corrupt_gzip_body() { return kCorruptGzipBody; }

std::string_view redirected_document() { return kRedirectedDocument; }

std::string_view items_document() { return items().list(); }
std::string_view item_document(uint64_t id) { return items().document(id); }
std::string_view movie_document(uint64_t id) { return movies().document(id); }
std::string_view jobs_document() { return jobs().documents.list(); }
std::string_view job_document(uint64_t id) { return jobs().documents.document(id); }
std::string_view optimize_accepted_document() { return kOptimizeAcceptedDocument; }
std::string_view admin_stats_document() { return kAdminStatsDocument; }

bool is_valid_api_key(std::string_view key) { return key.starts_with(kApiKeyPrefix); }

uint64_t movie_id_for_title(std::string_view title, uint64_t year) {
  // FNV-1a, spelled out because std::hash may change between library versions.
  constexpr uint64_t kPrime = 1099511628211u;
  uint64_t hash = 14695981039346656037u;
  for (const char c : title) hash = (hash ^ static_cast<unsigned char>(c)) * kPrime;
  hash = (hash ^ year) * kPrime;
  return hash % kMovieCount + 1;
}

void append_search_document(std::string& out, std::string_view query) {
  const JobCatalog& catalog = jobs();
  json::Writer document(out);
  document.begin_object();
  document.field("query", query);
  std::string& results = document.member("results");
  results += '[';
  bool first = true;
  for (uint64_t id = 1; id <= kListedJobCount; ++id) {
    if (!contains_ignoring_case(catalog.listed_names[id], query)) continue;
    if (!first) results += ',';
    first = false;
    results += catalog.documents.document(id);
  }
  results += ']';
  document.end_object();
}

void append_generated_bytes(std::string& out, uint64_t offset, size_t count) {
  const std::string& pattern = generated_pattern();
  while (count > 0) {
    const size_t slice = std::min(count, kPatternSpan);
    out.append(pattern.data() + offset % kAlphabet.size(), slice);
    offset += slice;
    count -= slice;
  }
}

std::optional<std::string_view> HeaderFields::find(std::string_view lower_case_name) const {
  for (const auto& field : fields) {
    if (name(field) == lower_case_name) return value(field);
  }
  return std::nullopt;
}

void append_echo_document(std::string& out, const EchoedRequest& request) {
  json::Writer document(out);
  document.begin_object();
  document.field("method", request.method).field("path", request.target.path).field("query", request.target.query);
  append_query_args(document.member("args"), request.target.query);
  append_headers_object(document.member("headers"), request.headers);
  document.field("body", request.body).end_object();
}

std::optional<std::string_view> find_query_value(std::string_view query, std::string_view key) {
  std::optional<std::string_view> found;
  for (QueryPair pair; take_query_pair(query, pair);) {
    if (pair.key == key) found = pair.value;
  }
  return found;
}

void append_url_decoded(std::string& out, std::string_view text, UrlPart part) {
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+' && part == UrlPart::query) {
      out += ' ';
    } else if (c == '%' && i + 2 < text.size() && hex_digit_value(text[i + 1]) >= 0 && hex_digit_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit_value(text[i + 1]) * 16 + hex_digit_value(text[i + 2]));
      i += 2;
    } else {
      out += c;  // a stray '%' stays as it is, like most frameworks do
    }
  }
}

void append_redirect_location(std::string& line, uint64_t next, std::optional<std::string_view> host) {
  line += "Location: ";
  if (host) {
    line += "http://";
    line += *host;
    line += "/absolute-redirect/";
  } else {
    line += "/redirect/";
  }
  append_decimal(line, next);
  line += "\r\n";
}

InputError append_redirect_to_location(std::string& line, unsigned& status, std::string_view query) {
  status = 302;
  if (const auto requested = find_query_value(query, "status")) {
    const std::optional<uint64_t> code = parse_decimal(*requested);
    if (!code || !is_redirect_status(*code)) return "status must be 301, 302, 303, 307 or 308";
    status = static_cast<unsigned>(*code);
  }
  const auto url = find_query_value(query, "url");
  if (!url || url->empty()) return "missing url";
  line += "Location: ";
  const size_t url_start = line.size();
  append_url_decoded(line, *url, UrlPart::query);
  // A tab may stand in a header value, but not in a URL.
  const std::string_view decoded_url = std::string_view(line).substr(url_start);
  if (!is_field_value(decoded_url) || decoded_url.find('\t') != std::string_view::npos) {
    return "url must not hold control characters";
  }
  line += "\r\n";
  return std::nullopt;
}

InputError append_set_cookie_lines(std::string& lines, std::string& attributes, std::string_view query) {
  attributes.clear();
  if (const auto encoded = find_query_value(query, kCookieAttributesKey)) {
    append_url_decoded(attributes, *encoded, UrlPart::query);
  }
  if (attributes.size() > kMaxCookieAttributesBytes) return "_attrs is too long (1024 bytes at most)";
  if (!is_field_value(attributes)) return "_attrs must not hold control characters";
  size_t count = 0;
  for (QueryPair pair; take_query_pair(query, pair);) {
    if (pair.key == kCookieAttributesKey) continue;
    if (++count > kMaxCookiesPerAnswer) return kTooManyCookies;
    lines += "Set-Cookie: ";
    if (!append_cookie_name(lines, pair.key)) return kBadCookieName;
    lines += '=';
    const size_t value_start = lines.size();
    append_url_decoded(lines, pair.value, UrlPart::query);
    if (!is_cookie_value(std::string_view(lines).substr(value_start))) {
      return R"(a cookie value cannot hold controls, spaces, '"', ',', ';' or '\')";
    }
    lines += "; Path=/";
    if (!attributes.empty()) {
      lines += "; ";
      lines += attributes;
    }
    lines += "\r\n";
  }
  return std::nullopt;
}

InputError append_delete_cookie_lines(std::string& lines, std::string_view query) {
  size_t count = 0;
  for (QueryPair pair; take_query_pair(query, pair);) {
    if (++count > kMaxCookiesPerAnswer) return kTooManyCookies;
    lines += "Set-Cookie: ";
    if (!append_cookie_name(lines, pair.key)) return kBadCookieName;
    lines += "=; Max-Age=0; Path=/\r\n";
  }
  return std::nullopt;
}

void append_cookies_document(std::string& out, const HeaderFields& headers) {
  // A set rather than a scan of earlier names: 64 KiB of "a=;" would make the scan quadratic.
  std::unordered_set<std::string_view> seen;
  json::Writer document(out);
  document.begin_object();
  json::Writer cookies(document.member("cookies"));
  cookies.begin_object();
  for (const auto& field : headers.fields) {
    if (headers.name(field) != "cookie") continue;
    std::string_view rest = headers.value(field);
    while (!rest.empty()) {
      const size_t semicolon = rest.find(';');
      const std::string_view pair = rest.substr(0, semicolon);
      rest = semicolon == std::string_view::npos ? std::string_view() : rest.substr(semicolon + 1);
      const size_t equals = pair.find('=');
      if (equals == std::string_view::npos) continue;  // not a cookie; browsers skip these too
      const std::string_view name = trim_whitespace(pair.substr(0, equals));
      if (name.empty() || !seen.insert(name).second) continue;
      cookies.field(name, trim_whitespace(pair.substr(equals + 1)));
    }
  }
  cookies.end_object();
  document.end_object();
}

bool append_basic_credentials(std::string& credentials, std::string_view authorization) {
  authorization = trim_whitespace(authorization);
  const size_t space = authorization.find_first_of(" \t");
  if (space == std::string_view::npos || !equals_ignoring_case(authorization.substr(0, space), "basic")) return false;
  return append_base64_decoded(credentials, trim_whitespace(authorization.substr(space + 1)));
}

InputError append_added_headers(std::string& lines, std::string& document, bool& sets_content_type,
                                std::string_view query) {
  sets_content_type = false;
  document += '[';
  size_t count = 0;
  for (QueryPair pair; take_query_pair(query, pair);) {
    if (++count > kMaxAddedHeaders) return "at most 100 headers";
    const size_t name_start = lines.size();
    append_url_decoded(lines, pair.key, UrlPart::query);
    const size_t name_length = lines.size() - name_start;
    lines += ": ";
    const size_t value_start = lines.size();
    append_url_decoded(lines, pair.value, UrlPart::query);
    const std::string_view name = std::string_view(lines).substr(name_start, name_length);
    const std::string_view value = std::string_view(lines).substr(value_start);
    if (!is_http_token(name)) return "a header name must be a token";
    if (!is_field_value(value)) return "a header value must not hold control characters";
    if (is_framing_header(name)) return "Content-Length, Transfer-Encoding and Connection are the target's own";
    sets_content_type = sets_content_type || equals_ignoring_case(name, "content-type");
    if (count > 1) document += ',';
    document += '[';
    json::append_string(document, name);
    document += ',';
    json::append_string(document, value);
    document += ']';
    lines += "\r\n";
  }
  document += ']';
  return std::nullopt;
}

}  // namespace cicada::target
