#include "runtime/target/endpoints.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <unordered_map>
#include <utility>
#include <vector>

#include "runtime/target/json_text.h"

namespace cicada::target {

namespace {

constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz";

// Large enough that a slice of any size is at most a few appends.
constexpr size_t kPatternSpan = 64 * 1024;

// Plain decimal only: no sign, no spaces, and short enough that it cannot overflow.
std::optional<uint64_t> parse_decimal(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  uint64_t value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (result.ec != std::errc() || result.ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

struct Catalog {
  std::array<std::string, kItemCount + 1> item_documents;  // [0] unused: ids start at 1
  std::string items_document;

  Catalog() {
    items_document = "[";
    for (uint64_t id = 1; id <= kItemCount; ++id) {
      // Prices look arbitrary but are the same in every run, so tests and checks can rely on them.
      const unsigned cents = 199 + static_cast<unsigned>((id * 7919) % 10000);
      char document[96];
      const int length = std::snprintf(document, sizeof document, R"({"id":%u,"name":"item %u","price":%u.%02u})",
                                       static_cast<unsigned>(id), static_cast<unsigned>(id), cents / 100, cents % 100);
      item_documents[id].assign(document, static_cast<size_t>(length));
      if (id > 1) items_document += ',';
      items_document += item_documents[id];
    }
    items_document += ']';
  }
};

const Catalog& catalog() {
  static const Catalog instance;
  return instance;
}

const std::string& generated_pattern() {
  static const std::string pattern = [] {
    std::string text;
    text.reserve(kPatternSpan + kAlphabet.size());
    while (text.size() < kPatternSpan + kAlphabet.size()) text += kAlphabet;
    return text;
  }();
  return pattern;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_query_args(std::string& out, std::string_view query) {
  std::vector<std::pair<std::string, std::string>> args;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t equals = pair.find('=');
    auto& [key, value] = args.emplace_back();
    append_url_decoded(key, pair.substr(0, equals));
    if (equals != std::string_view::npos) append_url_decoded(value, pair.substr(equals + 1));
  }
  // Repeated keys: the last value wins, listed where that last one appeared.
  std::unordered_map<std::string_view, size_t> last_index;
  for (size_t i = 0; i < args.size(); ++i) last_index[args[i].first] = i;
  out += '{';
  bool first = true;
  for (size_t i = 0; i < args.size(); ++i) {
    if (last_index[args[i].first] != i) continue;
    if (!first) out += ',';
    first = false;
    json::append_string(out, args[i].first);
    out += ':';
    json::append_string(out, args[i].second);
  }
  out += '}';
}

void append_headers_object(std::string& out, const HeaderFields& headers) {
  // A repeated header becomes one member with the values joined by ", ", which is what the
  // header means in HTTP. Connections cap the header count, so the quadratic scan stays small.
  out += '{';
  bool first = true;
  const auto fields = headers.fields;
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::string_view name = headers.name(fields[i]);
    const bool seen_before =
        std::any_of(fields.begin(), fields.begin() + static_cast<std::ptrdiff_t>(i),
                    [&](const HeaderField& earlier) { return headers.name(earlier) == name; });
    if (seen_before) continue;
    if (!first) out += ',';
    first = false;
    json::append_string(out, name);
    out += ":\"";
    json::append_escaped(out, headers.value(fields[i]));
    for (size_t j = i + 1; j < fields.size(); ++j) {
      if (headers.name(fields[j]) != name) continue;
      out += ", ";
      json::append_escaped(out, headers.value(fields[j]));
    }
    out += '"';
  }
  out += '}';
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
  };
  static constexpr Exact kExact[] = {
      {"/", Endpoint::root},          {"/json", Endpoint::json},   {"/echo", Endpoint::echo},
      {"/login", Endpoint::login},    {"/items", Endpoint::items}, {"/close", Endpoint::close},
  };
  for (const auto& entry : kExact) {
    if (path == entry.path) return {entry.endpoint, std::nullopt};
  }
  struct Prefixed {
    std::string_view prefix;
    Endpoint endpoint;
  };
  static constexpr Prefixed kPrefixed[] = {
      {"/status/", Endpoint::status}, {"/delay/", Endpoint::delay}, {"/bytes/", Endpoint::bytes},
      {"/chunked/", Endpoint::chunked}, {"/items/", Endpoint::item},
  };
  for (const auto& entry : kPrefixed) {
    if (path.starts_with(entry.prefix)) return {entry.endpoint, parse_decimal(path.substr(entry.prefix.size()))};
  }
  return {};
}

std::string_view fixed_json_document() {
  return R"({"name":"cicada target","version":1,"tags":["load","test","http"],"nested":{"ok":true,"ratio":0.5,"empty":null}})";
}

std::string_view items_document() { return catalog().items_document; }

std::string_view item_document(uint64_t id) {
  if (id < 1 || id > kItemCount) return {};
  return catalog().item_documents[id];
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
  out += R"({"method":)";
  json::append_string(out, request.method);
  out += R"(,"path":)";
  json::append_string(out, request.target.path);
  out += R"(,"query":)";
  json::append_string(out, request.target.query);
  out += R"(,"args":)";
  append_query_args(out, request.target.query);
  out += R"(,"headers":)";
  append_headers_object(out, request.headers);
  out += R"(,"body":)";
  json::append_string(out, request.body);
  out += '}';
}

void append_url_decoded(std::string& out, std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += c;  // a stray '%' stays as it is, like most frameworks do
    }
  }
}

}  // namespace cicada::target
