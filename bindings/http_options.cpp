// cicada.http: reading the options of a request or a client, and building what a request
// sends (URL, query, headers, cookies, body: JSON, form, multipart) from a request call.
#include "bindings/http_binding.h"

#include <openssl/evp.h>

#include <cmath>
#include <string>
#include <vector>

#include "runtime/http/request_writer.h"
#include "runtime/stats/stats_book.h"

namespace cicada::bindings::http_binding {

OptionSlots collect_options(lua_State* L, int table, std::uint32_t allowed, const char* what) {
  OptionSlots slots;
  lua_checkstack(L, kOptionCount + 4);
  lua_pushnil(L);
  while (lua_next(L, table) != 0) {
    std::string_view key = lua_type(L, -2) == LUA_TSTRING ? to_view(L, -2) : std::string_view{};
    int found = -1;
    for (int i = 0; i < kOptionCount && found < 0; ++i)
      if ((allowed & (1u << i)) && kOptionNames[i] == key) found = i;
    if (found < 0) {
      std::string known;
      for (int i = 0; i < kOptionCount; ++i)
        if (allowed & (1u << i)) known.append(known.empty() ? "" : ", ").append(kOptionNames[i]);
      const char* shown = lua_type(L, -2) == LUA_TSTRING || lua_type(L, -2) == LUA_TNUMBER
                              ? (lua_pushvalue(L, -2), lua_tostring(L, -1))
                              : luaL_typename(L, -2);
      luaL_error(L, "unknown %s option '%s' (known: %s)", what, shown, known.c_str());
    }
    slots.present |= 1u << found;
    lua_insert(L, -2);  // the value stays below the key, which lua_next needs on top
    slots.slot[found] = lua_gettop(L) - 1;
  }
  return slots;
}

namespace {

double seconds_at(lua_State* L, int index, std::string_view name) {
  double seconds = lua_tonumber(L, index);
  if (!lua_isnumber(L, index) || !(seconds > 0) || !std::isfinite(seconds))
    luaL_error(L, "%s must be a number of seconds > 0", std::string(name).c_str());
  return seconds;
}

}  // namespace

bool bool_at(lua_State* L, int index, std::string_view name) {
  if (!lua_isboolean(L, index)) luaL_error(L, "%s must be true or false", std::string(name).c_str());
  return lua_toboolean(L, index) != 0;
}

void read_limits(lua_State* L, const OptionSlots& o, http::ExchangeLimits* limits) {
  if (!(o.present & kLimitOptions)) return;
  if (o.has(kTimeout)) limits->timeout_s = seconds_at(L, o.at(kTimeout), "timeout");
  if (o.has(kConnectTimeout)) limits->connect_timeout_s = seconds_at(L, o.at(kConnectTimeout), "connect_timeout");
  if (o.has(kFirstByteTimeout))
    limits->first_byte_timeout_s = seconds_at(L, o.at(kFirstByteTimeout), "first_byte_timeout");
  if (o.has(kIdleTimeout)) limits->idle_timeout_s = seconds_at(L, o.at(kIdleTimeout), "idle_timeout");
  if (o.has(kDiscardBody)) limits->discard_body = bool_at(L, o.at(kDiscardBody), "discard_body");
  if (o.has(kMaxBody)) {
    double bytes = lua_tonumber(L, o.at(kMaxBody));
    if (!lua_isnumber(L, o.at(kMaxBody)) || bytes < 1) luaL_error(L, "max_body must be a number of bytes >= 1");
    limits->max_body = static_cast<std::size_t>(bytes);
  }
}

// verify = true | false | "ca.pem"; cert = "both.pem" | {"cert.pem", "key.pem"} (requests' forms).
// Returns true when either was given.
bool read_tls(lua_State* L, const OptionSlots& o, http::TlsSettings* tls) {
  if (!(o.present & kTlsOptions)) return false;
  if (o.has(kVerify)) {
    int v = o.at(kVerify);
    if (lua_isboolean(L, v)) {
      tls->verify = lua_toboolean(L, v) != 0;
    } else if (lua_type(L, v) == LUA_TSTRING) {
      tls->verify = true;
      tls->ca_file = lua_tostring(L, v);
    } else {
      luaL_error(L, "verify must be true, false or the path of a CA file");
    }
  }
  if (o.has(kCert)) {
    int c = o.at(kCert);
    if (lua_type(L, c) == LUA_TSTRING) {
      tls->cert_file = lua_tostring(L, c);
      tls->key_file.clear();
    } else if (lua_istable(L, c)) {
      lua_rawgeti(L, c, 1);
      lua_rawgeti(L, c, 2);
      if (!lua_isstring(L, -2) || !lua_isstring(L, -1)) luaL_error(L, "cert must be a path or {cert_path, key_path}");
      tls->cert_file = lua_tostring(L, -2);
      tls->key_file = lua_tostring(L, -1);
      lua_pop(L, 2);
    } else {
      luaL_error(L, "cert must be a path or {cert_path, key_path}");
    }
  }
  return true;
}

// --- building the request ---------------------------------------------------------------

namespace {

// Collects a table of {key = scalar or list of scalars} as (key, text) pairs without one heap
// allocation per pair: keys are views of the table's own strings, texts go back to back into
// one reused buffer. Pairs come out sorted by key (list items keep their order), so the same
// table always gives the same text (and the same stats name).
class SortedPairs {
 public:
  struct Pair {
    std::string_view key;
    std::uint32_t value_offset, value_length, sequence;
  };

  // `encode` appends a scalar's text (URL-encoded or as is) to the buffer.
  template <class Encode>
  void collect(lua_State* L, int table, const char* what, Encode encode) {
    pairs_.clear();
    values_.clear();
    lua_pushnil(L);
    while (lua_next(L, table) != 0) {
      if (lua_type(L, -2) != LUA_TSTRING) luaL_error(L, "%s keys must be strings", what);
      std::string_view key = to_view(L, -2);
      if (lua_istable(L, -1)) {
        int list = lua_gettop(L);
        for (int i = 1;; ++i) {
          lua_rawgeti(L, list, i);
          if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            break;
          }
          add(L, key, -1, what, encode);
          lua_pop(L, 1);
        }
      } else {
        add(L, key, -1, what, encode);
      }
      lua_pop(L, 1);
    }
    std::sort(pairs_.begin(), pairs_.end(), [](const Pair& a, const Pair& b) {
      return a.key != b.key ? a.key < b.key : a.sequence < b.sequence;
    });
  }

  const std::vector<Pair>& pairs() const { return pairs_; }
  std::string_view value(const Pair& pair) const { return {values_.data() + pair.value_offset, pair.value_length}; }

 private:
  template <class Encode>
  void add(lua_State* L, std::string_view key, int index, const char* what, Encode encode) {
    auto offset = static_cast<std::uint32_t>(values_.size());
    switch (lua_type(L, index)) {
      case LUA_TSTRING:
        encode(values_, to_view(L, index));
        break;
      case LUA_TNUMBER: {
        char digits[32];
        int n = std::snprintf(digits, sizeof digits, "%.14g", lua_tonumber(L, index));
        encode(values_, std::string_view(digits, static_cast<std::size_t>(n)));
        break;
      }
      case LUA_TBOOLEAN:
        encode(values_, lua_toboolean(L, index) ? "true" : "false");
        break;
      default:
        luaL_error(L, "%s values must be strings, numbers, booleans or lists of them (got %s)", what,
                   luaL_typename(L, index));
    }
    pairs_.push_back(Pair{key, offset, static_cast<std::uint32_t>(values_.size()) - offset,
                          static_cast<std::uint32_t>(pairs_.size())});
  }

  std::vector<Pair> pairs_;
  std::string values_;
};

thread_local SortedPairs sorted_pairs;

// {q = "x", tag = {"a", "b"}} as q=x&tag=a&tag=b: opts.params and opts.form.
void append_encoded_pairs(lua_State* L, int table, std::string& out, const char* what) {
  sorted_pairs.collect(L, table, what, [](std::string& to, std::string_view text) { http::append_query_encoded(to, text); });
  for (const auto& pair : sorted_pairs.pairs()) {
    if (!out.empty() && out.back() != '?') out.push_back('&');
    http::append_query_encoded(out, pair.key);
    out.push_back('=');
    out.append(sorted_pairs.value(pair));
  }
}

// Text for an error message, with control characters shown as escapes (\r, \n, \x00).
}  // namespace

std::string printable(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\x%02X", c);
      out += escape;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

// opts.cookies = {name = value}: "a=1; b=2" (sorted, so the header is the same every time).
namespace {

void read_cookie_pairs(lua_State* L, int table, std::string& out) {
  luaL_argcheck(L, lua_istable(L, table), 3, "opts.cookies must be a table of name = value");
  sorted_pairs.collect(L, table, "opts.cookies", [](std::string& to, std::string_view text) { to.append(text); });
  for (const auto& pair : sorted_pairs.pairs()) {
    std::string_view value = sorted_pairs.value(pair);
    auto control = [](std::string_view text) {
      return std::any_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
    };
    if (pair.key.find_first_of("=; ") != std::string_view::npos || value.find(';') != std::string_view::npos ||
        control(pair.key) || control(value))
      luaL_error(L, "opts.cookies[\"%s\"]: names cannot hold '=', ';' or spaces, values ';'; neither control characters",
                 std::string(pair.key).c_str());
    if (!out.empty()) out.append("; ");
    out.append(pair.key).append("=").append(value);
  }
}

void read_headers(lua_State* L, int headers_index, http::HeaderBlock& headers) {
  luaL_argcheck(L, lua_istable(L, headers_index), 3, "opts.headers must be a table");
  lua_pushnil(L);
  while (lua_next(L, headers_index) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING) luaL_error(L, "opts.headers keys must be strings");
    int value_type = lua_type(L, -1);
    if (value_type != LUA_TSTRING && value_type != LUA_TNUMBER)
      luaL_error(L, "opts.headers[\"%s\"] must be a string or a number", lua_tostring(L, -2));
    lua_pushvalue(L, -1);  // tostring on a number must not disturb lua_next
    if (!headers.add(to_view(L, -3), to_view(L, -1)))
      luaL_error(L, "invalid header \"%s\": names are tokens, values must not hold control characters (CR, LF, NUL...)",
                 printable(to_view(L, -3)).c_str());
    lua_pop(L, 2);
  }
}

std::string base64(std::string_view text) {
  std::string out(4 * ((text.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// opts.files = { field = "content" | {filename =, content =, content_type =} }, with the
// opts.form fields as more parts: a multipart/form-data body.
void write_multipart(lua_State* L, int files_index, int form_index, std::string& body, std::string& content_type) {
  luaL_argcheck(L, lua_istable(L, files_index), 3, "opts.files must be a table");
  char boundary[40];
  std::snprintf(boundary, sizeof boundary, "cicada-%08x%08x", static_cast<unsigned>(uv_hrtime()),
                static_cast<unsigned>(std::rand()));
  auto part_head = [&](std::string_view field, std::string_view filename, std::string_view type) {
    body.append("--").append(boundary).append("\r\nContent-Disposition: form-data; name=\"").append(field).append("\"");
    if (!filename.empty()) body.append("; filename=\"").append(filename).append("\"");
    body.append("\r\n");
    if (!type.empty()) body.append("Content-Type: ").append(type).append("\r\n");
    body.append("\r\n");
  };
  body.clear();
  if (form_index && lua_istable(L, form_index)) {
    lua_pushnil(L);
    while (lua_next(L, form_index) != 0) {
      lua_pushvalue(L, -2);
      std::string field(to_view(L, -1));
      lua_pop(L, 1);
      if (!lua_isstring(L, -1)) luaL_error(L, "opts.form[\"%s\"] must be a string or number with opts.files", field.c_str());
      part_head(field, "", "");
      body.append(to_view(L, -1)).append("\r\n");
      lua_pop(L, 1);
    }
  }
  lua_pushnil(L);
  while (lua_next(L, files_index) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING) luaL_error(L, "opts.files keys must be field names");
    std::string field(to_view(L, -2));
    if (lua_isstring(L, -1)) {
      part_head(field, field, "application/octet-stream");
      body.append(to_view(L, -1));
    } else if (lua_istable(L, -1)) {
      lua_getfield(L, -1, "content");
      lua_getfield(L, -2, "filename");
      lua_getfield(L, -3, "content_type");
      if (!lua_isstring(L, -3)) luaL_error(L, "opts.files[\"%s\"].content must be a string", field.c_str());
      part_head(field, lua_isstring(L, -2) ? to_view(L, -2) : std::string_view(field),
                lua_isstring(L, -1) ? to_view(L, -1) : std::string_view("application/octet-stream"));
      body.append(to_view(L, -3));
      lua_pop(L, 3);
    } else {
      luaL_error(L, "opts.files[\"%s\"] must be the content or {filename=, content=, content_type=}", field.c_str());
    }
    body.append("\r\n");
    lua_pop(L, 1);
  }
  body.append("--").append(boundary).append("--\r\n");
  content_type.assign("multipart/form-data; boundary=").append(boundary);
}

// Reads method/path/opts into `request`. Raises Lua errors for misuse; does no I/O.
}  // namespace

void prepare_request(lua_State* L, common::ThreadContext* ctx, http::Client* client, std::string_view method,
                     int path_index, int opts_index, PendingRequest* request) {
  std::size_t path_length = 0;
  const char* path_chars = luaL_checklstring(L, path_index, &path_length);
  std::string_view path(path_chars, path_length);
  const int opts_type = opts_index ? lua_type(L, opts_index) : LUA_TNONE;
  bool has_opts = opts_type != LUA_TNONE && opts_type != LUA_TNIL;
  if (has_opts && opts_type != LUA_TTABLE) luaL_checktype(L, opts_index, LUA_TTABLE);

  http::Request& http = request->http;
  http.prepare(*client, method);
  request->catch_response = false;
  const http::ClientOptions& defaults = client->options();

  // Where to: an absolute URL, or the path joined to the user's host.
  std::string target;
  if (http::is_absolute_url(path)) {
    std::string error;
    auto parsed = http::parse_url(path, &error);
    if (!parsed) luaL_error(L, "%s", printable(error).c_str());
    http.url = std::move(*parsed);
  } else {
    const http::Url* base = client->base();
    if (!base)
      luaL_error(L, "no host to send \"%s\" to: pass -H/--host, set host= on the user class, or use an absolute URL",
                 path_chars);
    // A pooled request mostly goes where its last one went: copy only what differs.
    if (http.url.scheme != base->scheme) http.url.scheme = base->scheme;
    if (http.url.host != base->host) http.url.host = base->host;
    http.url.port = base->port;
    http.url.ipv6_literal = base->ipv6_literal;
    http::join_target(http.url.path, base->path, path);
  }

  bool name_given = false;
  int top = lua_gettop(L);
  OptionSlots o;
  if (has_opts) o = collect_options(L, opts_index, kRequestOptions, "request");
  if (o.present) {
    if (o.has(kParams)) {
      luaL_argcheck(L, lua_istable(L, o.at(kParams)), 3, "opts.params must be a table");
      std::string& p = http.url.path;
      p.push_back(p.find('?') == std::string::npos ? '?' : '&');
      append_encoded_pairs(L, o.at(kParams), p, "opts.params");
      if (p.back() == '?' || p.back() == '&') p.pop_back();
    }
    if (o.has(kName)) {
      if (lua_type(L, o.at(kName)) != LUA_TSTRING) luaL_error(L, "opts.name must be a string");
      request->name.assign(to_view(L, o.at(kName)));
      name_given = true;
    }
    if (o.has(kHeaders)) read_headers(L, o.at(kHeaders), http.headers);
    if (o.has(kCookies)) read_cookie_pairs(L, o.at(kCookies), http.extra_cookies);
    if (o.has(kAuth)) {
      int auth = o.at(kAuth);
      if (!lua_istable(L, auth)) luaL_error(L, "opts.auth must be {user, password}");
      lua_rawgeti(L, auth, 1);
      lua_rawgeti(L, auth, 2);
      if (!lua_isstring(L, -2) || !lua_isstring(L, -1)) luaL_error(L, "opts.auth must be {user, password}");
      if (!http.headers.has(http::HeaderBlock::kAuthorization)) {
        std::string credentials = std::string(to_view(L, -2)) + ":" + std::string(to_view(L, -1));
        http.headers.add("Authorization", "Basic " + base64(credentials));
      }
      lua_pop(L, 2);
    }
    int bodies = o.has(kBody) + o.has(kJson) + (o.has(kForm) && !o.has(kFiles)) + o.has(kFiles);
    if (bodies > 1) luaL_error(L, "give one of opts.body, opts.json, opts.form, opts.files (form fields go with files)");
    if (o.has(kBody)) {
      if (lua_type(L, o.at(kBody)) != LUA_TSTRING) luaL_error(L, "opts.body must be a string (use opts.json for tables)");
      http.body.assign(to_view(L, o.at(kBody)));
    } else if (o.has(kJson)) {
      push_registry_slot(L, &kJsonEncode);
      lua_pushvalue(L, o.at(kJson));
      if (lua_pcall(L, 1, 1, 0) != 0) luaL_error(L, "opts.json cannot be encoded: %s", lua_tostring(L, -1));
      http.body.assign(to_view(L, -1));
      http.content_type = "application/json";
      lua_pop(L, 1);
    } else if (o.has(kFiles)) {
      write_multipart(L, o.at(kFiles), o.has(kForm) ? o.at(kForm) : 0, http.body, http.content_type);
    } else if (o.has(kForm)) {
      luaL_argcheck(L, lua_istable(L, o.at(kForm)), 3, "opts.form must be a table");
      append_encoded_pairs(L, o.at(kForm), http.body, "opts.form");
      http.content_type = "application/x-www-form-urlencoded";
    }
    read_limits(L, o, &http.limits);
    if (o.present & kTlsOptions) {
      http.tls = *defaults.tls;
      http.own_tls = read_tls(L, o, &http.tls);
    }
    if (o.has(kAllowRedirects)) http.allow_redirects = bool_at(L, o.at(kAllowRedirects), "opts.allow_redirects");
    if (o.has(kCatchResponse)) request->catch_response = lua_toboolean(L, o.at(kCatchResponse)) != 0;
  }
  // Spaces and non-ASCII text are encoded as python-requests does; CR, LF and the other
  // control characters would split the request (header injection) and are refused here.
  if (!http::encode_request_target(http.url.path))
    luaL_error(L, "invalid request path \"%s\": control characters (CR, LF, NUL...) cannot be sent; "
                  "percent-encode them if they belong to the path", printable(http.url.path).c_str());
  if (!name_given) request->name.assign(http.url.path);

  if (ctx->failure_listener_ref != LUA_NOREF) {
    // request_failure listeners see what was sent; only built when someone listens.
    std::string url = http::to_string(http.url);
    lua_createtable(L, 0, 5);
    lua_pushlstring(L, http.method.data(), http.method.size());
    lua_setfield(L, -2, "method");
    lua_pushlstring(L, url.data(), url.size());
    lua_setfield(L, -2, "url");
    lua_pushlstring(L, request->name.data(), request->name.size());
    lua_setfield(L, -2, "name");
    if (o.has(kHeaders)) {
      lua_pushvalue(L, o.at(kHeaders));
    } else {
      lua_newtable(L);
    }
    lua_setfield(L, -2, "headers");
    if (!http.body.empty()) {
      lua_pushlstring(L, http.body.data(), http.body.size());
      lua_setfield(L, -2, "body");
    }
    request->request_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  lua_settop(L, top);
}

}  // namespace cicada::bindings::http_binding
