// cicada.http: the HTTP client of a virtual user and the response object.
//
//   local client = http.new_client("http://127.0.0.1:8080", { timeout = 5, verify = false })
//   local res = client:get("/items", { params = {page = 2}, name = "/items" })
//   res.status, res.ok, res.error, res.body, res.headers["content-type"], res.elapsed, res:json()
//   local a, b = unpack(client:batch{ {"GET", "/a"}, {"POST", "/b", {json = {x = 1}}} })
//
// A request call yields the user's coroutine until the exchange (and its redirects) completes;
// network failures come back as a response with status 0 and `error` set, never as a Lua
// error. Misuse (bad arguments, calling outside a user) raises a Lua error.
#include <lua.hpp>
#include <openssl/evp.h>
#include <strings.h>

#include <algorithm>
#include <cassert>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "bindings/lua_util.h"
#include "bindings/modules.h"
#include "bindings/sample_recorder.h"
#include "runtime/common/text.h"
#include "runtime/common/thread_context.h"
#include "runtime/http/client.h"
#include "runtime/http/http_runtime.h"
#include "runtime/http/request_writer.h"
#include "runtime/script/thread_context_slot.h"
#include "runtime/stats/stats_book.h"
#include "runtime/vu/scheduler.h"

namespace cicada::bindings {

namespace {

const char kClientMetatable = 0;
const char kResponseMetatable = 0;
const char kHeadersMetatable = 0;
const char kJsonEncode = 0;
const char kJsonDecode = 0;
const char kResponseJsonMethod = 0;
const char kResponseSuccessMethod = 0;
const char kResponseFailureMethod = 0;

// The response object: one userdata holding everything in Lua-managed memory: this header,
// then the header spans, then the text (header bytes, body, url, method, name, error). It
// needs no finalizer and no pool, and the garbage collector sees its real size. Lua values
// (the body string, the headers table) are made only when the script asks for them; the
// headers table and the redirect history are kept in the userdata's environment table.
struct Piece {
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
};

struct LuaResponse {
  int status = 0;
  std::uint32_t header_count = 0;
  std::uint64_t elapsed_ns = 0;
  std::uint64_t content_length = 0;
  http::Timings timings;
  bool awaiting_verdict = false;  // catch_response: recorded by res:success()/res:failure()
  bool body_discarded = false;    // past the run's body budget (http/body_budget.h)
  bool has_environment = false;   // headers/history table set as the userdata's environment
  Piece header_bytes, body, url, method, name, error;

  const http::HeaderSpan* spans() const { return reinterpret_cast<const http::HeaderSpan*>(this + 1); }
  const char* text() const { return reinterpret_cast<const char*>(spans() + header_count); }
  std::string_view view(Piece piece) const { return {text() + piece.offset, piece.length}; }
  std::string_view header_name(const http::HeaderSpan& h) const {
    return view(header_bytes).substr(h.name_offset, h.name_length);
  }
  std::string_view header_value(const http::HeaderSpan& h) const {
    return view(header_bytes).substr(h.value_offset, h.value_length);
  }
  const http::HeaderSpan* find_header(std::string_view wanted) const {
    for (std::uint32_t i = 0; i < header_count; ++i) {
      std::string_view n = header_name(spans()[i]);
      if (n.size() == wanted.size() && strncasecmp(n.data(), wanted.data(), n.size()) == 0) return &spans()[i];
    }
    return nullptr;
  }
};

struct Batch;

// Everything about one request that must outlive the Lua call: a redirect sends it again,
// possibly elsewhere and with another method. Pooled per thread; strings keep their capacity.
struct PendingRequest {
  vu::Vu* user = nullptr;
  http::Client* client = nullptr;
  http::Connection* connection = nullptr;
  common::ThreadContext* context = nullptr;
  Batch* batch = nullptr;  // set for requests of client:batch{}
  int batch_index = 0;
  bool catch_response = false;
  int request_ref = LUA_NOREF;  // request table for request_failure listeners, when there are any

  std::string method;            // as sent now (a 303 turns a POST into a GET)
  std::string original_method;   // what the sample is recorded under
  std::string name;
  http::Url url;                 // where the current hop goes
  std::string url_text;
  http::HeaderBlock headers;
  std::string extra_cookies;     // opts.cookies, sent with every hop but not kept in the jar
  std::string body;
  std::string content_type;
  http::ExchangeLimits limits;
  http::TlsSettings tls;
  bool own_tls = false;          // tls overrides the client's settings
  bool allow_redirects = true;
  int redirects_left = 30;
  std::uint64_t started_ns = 0;
  std::vector<std::pair<int, std::string>> history;
  http::Timings timings;  // summed over every hop
};

// client:batch{...}: requests in parallel; the user resumes when the last one is done.
struct Batch {
  vu::Vu* user = nullptr;
  common::ThreadContext* context = nullptr;
  int results_ref = LUA_NOREF;  // the table of responses, filled in order
  std::vector<PendingRequest*> requests;
  std::size_t remaining = 0;
};

// Per-thread free list: steady-state requests allocate no PendingRequest.
thread_local std::vector<std::unique_ptr<PendingRequest>> free_pending_requests;

PendingRequest* acquire_pending_request() {
  if (free_pending_requests.empty()) return new PendingRequest;
  PendingRequest* request = free_pending_requests.back().release();
  free_pending_requests.pop_back();
  return request;
}

void release_pending_request(PendingRequest* request) {
  if (request->request_ref != LUA_NOREF) luaL_unref(request->context->main_state, LUA_REGISTRYINDEX, request->request_ref);
  request->request_ref = LUA_NOREF;
  request->user = nullptr;
  request->client = nullptr;
  request->connection = nullptr;
  request->batch = nullptr;
  request->history.clear();
  if (free_pending_requests.size() < 4096) {
    free_pending_requests.emplace_back(request);
  } else {
    delete request;
  }
}

common::ThreadContext* context(lua_State* L) {
  return static_cast<common::ThreadContext*>(lua_touserdata(L, lua_upvalueindex(1)));
}

template <class T>
T* check_userdata(lua_State* L, int index, const char* metatable_key, const char* what) {
  auto* object = static_cast<T*>(lua_touserdata(L, index));
  if (object && lua_getmetatable(L, index)) {
    push_registry_slot(L, metatable_key);
    bool same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    if (same) return object;
  }
  luaL_typerror(L, index, what);
  return nullptr;
}

// Called by every request: the metatable is compared by address (kept in the thread context)
// rather than fetched from the registry.
http::Client* check_client(lua_State* L, int index, const common::ThreadContext* ctx) {
  auto* client = static_cast<http::Client*>(lua_touserdata(L, index));
  if (client && lua_getmetatable(L, index)) {
    bool same = lua_topointer(L, -1) == ctx->client_metatable;
    lua_pop(L, 1);
    if (same) return client;
  }
  luaL_typerror(L, index, "cicada client (use self.client:get(...), with a colon)");
  return nullptr;
}

LuaResponse* check_response(lua_State* L, int index) {
  return check_userdata<LuaResponse>(L, index, &kResponseMetatable, "cicada response (use res:json(), with a colon)");
}


// --- reading options ---------------------------------------------------------------------

// Options of a request, or of a client (a user class's `client = {...}`), read in one pass
// over the table: each known field lands in a stack slot, an unknown one is an error (a typo
// such as `timout` must not silently do nothing).
enum Option {
  kParams, kName, kHeaders, kCookies, kAuth, kBody, kJson, kForm, kFiles, kTimeout, kConnectTimeout,
  kFirstByteTimeout, kIdleTimeout, kMaxBody, kDiscardBody, kVerify, kCert, kAllowRedirects, kMaxRedirects,
  kCatchResponse, kPool, kOptionCount
};

constexpr std::string_view kOptionNames[kOptionCount] = {
    "params", "name", "headers", "cookies", "auth", "body", "json", "form", "files", "timeout", "connect_timeout",
    "first_byte_timeout", "idle_timeout", "max_body", "discard_body", "verify", "cert", "allow_redirects",
    "max_redirects", "catch_response", "pool",
};

constexpr std::uint32_t bit(Option option) { return 1u << option; }
constexpr std::uint32_t kLimitOptions = bit(kTimeout) | bit(kConnectTimeout) | bit(kFirstByteTimeout) |
                                        bit(kIdleTimeout) | bit(kMaxBody) | bit(kDiscardBody);
constexpr std::uint32_t kTlsOptions = bit(kVerify) | bit(kCert);
constexpr std::uint32_t kRequestOptions = kLimitOptions | kTlsOptions | bit(kParams) | bit(kName) | bit(kHeaders) |
                                          bit(kCookies) | bit(kAuth) | bit(kBody) | bit(kJson) | bit(kForm) |
                                          bit(kFiles) | bit(kAllowRedirects) | bit(kCatchResponse);
constexpr std::uint32_t kClientOptions =
    kLimitOptions | kTlsOptions | bit(kAllowRedirects) | bit(kMaxRedirects) | bit(kPool);

// Only the slots of present options are set (a request's call reads one option table, and
// clearing 21 slots cost as much as finding its one `name`): check has() before at().
struct OptionSlots {
  int slot[kOptionCount];  // stack index of each present option's value
  std::uint32_t present = 0;
  bool has(Option option) const { return (present & bit(option)) != 0; }
  int at(Option option) const {
    assert(has(option));
    return slot[option];
  }
};

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

double seconds_at(lua_State* L, int index, std::string_view name) {
  double seconds = lua_tonumber(L, index);
  if (!lua_isnumber(L, index) || !(seconds > 0) || !std::isfinite(seconds))
    luaL_error(L, "%s must be a number of seconds > 0", std::string(name).c_str());
  return seconds;
}

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

std::string_view path_only(std::string_view target) { return target.substr(0, target.find('?')); }

// Text for an error message, with control characters shown as escapes (\r, \n, \x00).
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
void prepare_request(lua_State* L, common::ThreadContext* ctx, http::Client* client, std::string_view method,
                     int path_index, int opts_index, PendingRequest* request) {
  std::size_t path_length = 0;
  const char* path_chars = luaL_checklstring(L, path_index, &path_length);
  std::string_view path(path_chars, path_length);
  const int opts_type = opts_index ? lua_type(L, opts_index) : LUA_TNONE;
  bool has_opts = opts_type != LUA_TNONE && opts_type != LUA_TNIL;
  if (has_opts && opts_type != LUA_TTABLE) luaL_checktype(L, opts_index, LUA_TTABLE);

  if (request->method != method) request->method.assign(method);
  if (request->original_method != method) request->original_method.assign(method);
  request->headers.clear();
  request->extra_cookies.clear();
  request->body.clear();
  request->content_type.clear();
  request->history.clear();
  request->timings = http::Timings{};
  request->catch_response = false;
  const http::ClientOptions& defaults = client->options();
  request->limits = defaults.limits;
  request->own_tls = false;
  request->allow_redirects = defaults.allow_redirects && method != "HEAD";
  request->redirects_left = defaults.max_redirects;

  // Where to: an absolute URL, or the path joined to the user's host.
  std::string target;
  if (http::is_absolute_url(path)) {
    std::string error;
    auto parsed = http::parse_url(path, &error);
    if (!parsed) luaL_error(L, "%s", printable(error).c_str());
    request->url = std::move(*parsed);
  } else {
    const http::Url* base = client->base();
    if (!base)
      luaL_error(L, "no host to send \"%s\" to: pass -H/--host, set host= on the user class, or use an absolute URL",
                 path_chars);
    // A pooled request mostly goes where its last one went: copy only what differs.
    if (request->url.scheme != base->scheme) request->url.scheme = base->scheme;
    if (request->url.host != base->host) request->url.host = base->host;
    request->url.port = base->port;
    request->url.ipv6_literal = base->ipv6_literal;
    http::join_target(request->url.path, base->path, path);
  }

  bool name_given = false;
  int top = lua_gettop(L);
  OptionSlots o;
  if (has_opts) o = collect_options(L, opts_index, kRequestOptions, "request");
  if (o.present) {
    if (o.has(kParams)) {
      luaL_argcheck(L, lua_istable(L, o.at(kParams)), 3, "opts.params must be a table");
      std::string& p = request->url.path;
      p.push_back(p.find('?') == std::string::npos ? '?' : '&');
      append_encoded_pairs(L, o.at(kParams), p, "opts.params");
      if (p.back() == '?' || p.back() == '&') p.pop_back();
    }
    if (o.has(kName)) {
      if (lua_type(L, o.at(kName)) != LUA_TSTRING) luaL_error(L, "opts.name must be a string");
      request->name.assign(to_view(L, o.at(kName)));
      name_given = true;
    }
    if (o.has(kHeaders)) read_headers(L, o.at(kHeaders), request->headers);
    if (o.has(kCookies)) read_cookie_pairs(L, o.at(kCookies), request->extra_cookies);
    if (o.has(kAuth)) {
      int auth = o.at(kAuth);
      if (!lua_istable(L, auth)) luaL_error(L, "opts.auth must be {user, password}");
      lua_rawgeti(L, auth, 1);
      lua_rawgeti(L, auth, 2);
      if (!lua_isstring(L, -2) || !lua_isstring(L, -1)) luaL_error(L, "opts.auth must be {user, password}");
      if (!request->headers.has(http::HeaderBlock::kAuthorization)) {
        std::string credentials = std::string(to_view(L, -2)) + ":" + std::string(to_view(L, -1));
        request->headers.add("Authorization", "Basic " + base64(credentials));
      }
      lua_pop(L, 2);
    }
    int bodies = o.has(kBody) + o.has(kJson) + (o.has(kForm) && !o.has(kFiles)) + o.has(kFiles);
    if (bodies > 1) luaL_error(L, "give one of opts.body, opts.json, opts.form, opts.files (form fields go with files)");
    if (o.has(kBody)) {
      if (lua_type(L, o.at(kBody)) != LUA_TSTRING) luaL_error(L, "opts.body must be a string (use opts.json for tables)");
      request->body.assign(to_view(L, o.at(kBody)));
    } else if (o.has(kJson)) {
      push_registry_slot(L, &kJsonEncode);
      lua_pushvalue(L, o.at(kJson));
      if (lua_pcall(L, 1, 1, 0) != 0) luaL_error(L, "opts.json cannot be encoded: %s", lua_tostring(L, -1));
      request->body.assign(to_view(L, -1));
      request->content_type = "application/json";
      lua_pop(L, 1);
    } else if (o.has(kFiles)) {
      write_multipart(L, o.at(kFiles), o.has(kForm) ? o.at(kForm) : 0, request->body, request->content_type);
    } else if (o.has(kForm)) {
      luaL_argcheck(L, lua_istable(L, o.at(kForm)), 3, "opts.form must be a table");
      append_encoded_pairs(L, o.at(kForm), request->body, "opts.form");
      request->content_type = "application/x-www-form-urlencoded";
    }
    read_limits(L, o, &request->limits);
    if (o.present & kTlsOptions) {
      request->tls = *defaults.tls;
      request->own_tls = read_tls(L, o, &request->tls);
    }
    if (o.has(kAllowRedirects)) request->allow_redirects = bool_at(L, o.at(kAllowRedirects), "opts.allow_redirects");
    if (o.has(kCatchResponse)) request->catch_response = lua_toboolean(L, o.at(kCatchResponse)) != 0;
  }
  // Spaces and non-ASCII text are encoded as python-requests does; CR, LF and the other
  // control characters would split the request (header injection) and are refused here.
  if (!http::encode_request_target(request->url.path))
    luaL_error(L, "invalid request path \"%s\": control characters (CR, LF, NUL...) cannot be sent; "
                  "percent-encode them if they belong to the path", printable(request->url.path).c_str());
  if (!name_given) request->name.assign(request->url.path);

  if (ctx->failure_listener_ref != LUA_NOREF) {
    // request_failure listeners see what was sent; only built when someone listens.
    std::string url = http::to_string(request->url);
    lua_createtable(L, 0, 5);
    lua_pushlstring(L, request->method.data(), request->method.size());
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
    if (!request->body.empty()) {
      lua_pushlstring(L, request->body.data(), request->body.size());
      lua_setfield(L, -2, "body");
    }
    request->request_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  lua_settop(L, top);
}

void on_exchange_done(void* waiter, http::ResponseData& data);
void finish_request(PendingRequest* request, http::ResponseData& data, const char* error_override);

// Sends the current hop of `request` on a connection of its client. Returns false (with no
// exchange started) when the user has too many requests in flight to that endpoint.
bool send_hop(PendingRequest* request) {
  http::Client* client = request->client;
  http::Connection* connection = client->acquire(request->url);
  if (!connection) return false;
  request->connection = connection;
  request->url_text.assign(connection->origin()).append(request->url.path);

  // The jar's cookies for this hop (its host and path), then the request's own.
  thread_local std::string cookie;
  cookie.clear();
  if (client->cookies().size() != 0)
    client->cookies().header_for(request->url.scheme, request->url.host, path_only(request->url.path),
                                 std::time(nullptr), cookie);
  if (!request->extra_cookies.empty()) {
    if (!cookie.empty()) cookie.append("; ");
    cookie.append(request->extra_cookies);
  }

  http::ComposeInput input;
  input.method = request->method;
  input.target = request->url.path;
  input.host_header = connection->host_header();
  input.user_agent = request->context->http->defaults().user_agent;
  input.cookie = cookie;
  input.body = request->body;
  input.content_type = request->content_type;
  input.accept_encoding = true;
  http::compose_request(connection->request_bytes(), input, request->headers);

  http::Connection::Exchange exchange;
  exchange.method = request->method;
  exchange.limits = request->limits;
  if (!request->history.empty() && request->limits.timeout_s > 0) {
    // The total deadline spans every redirect: each hop gets what is left of it.
    double spent = static_cast<double>(uv_hrtime() - request->started_ns) / 1e9;
    exchange.limits.timeout_s = std::max(0.001, request->limits.timeout_s - spent);
  }
  exchange.tls = request->own_tls ? &request->tls : client->options().tls.get();
  if (request->history.empty()) exchange.started_ns = request->started_ns;
  exchange.waiter = request;
  exchange.on_complete = &on_exchange_done;
  connection->start(exchange);
  return true;
}

// A 3xx with a Location, to follow: returns true when the next hop was started.
bool follow_redirect(PendingRequest* request, http::ResponseData& data, const char** error) {
  int status = data.status;
  if (!request->allow_redirects || !(status == 301 || status == 302 || status == 303 || status == 307 || status == 308))
    return false;
  const http::HeaderSpan* location = data.find_header("location");
  if (!location) return false;
  if (request->redirects_left <= 0) {
    *error = "too many redirects";
    return false;
  }
  std::string problem;
  auto next = http::resolve_reference(request->url, data.header_value(*location), &problem);
  if (!next) {
    *error = "bad redirect";
    return false;
  }
  if (!http::encode_request_target(next->path)) {
    *error = "bad redirect";
    return false;
  }
  --request->redirects_left;
  request->history.emplace_back(status, request->url_text);
  // 303 always, and 301/302 after a POST (as browsers and requests do), become a GET without body.
  if ((status == 303 && request->method != "HEAD") || ((status == 301 || status == 302) && request->method == "POST")) {
    request->method = "GET";
    request->body.clear();
    request->content_type.clear();
    request->headers.remove("content-type");
    request->headers.remove("content-length");
  }
  // Credentials stay with their origin (scheme, host and port, as curl and python-requests
  // decide): the Authorization header and the cookies given with the request, per request or
  // as a Cookie header, are not sent to another one. The jar's cookies follow their own scope.
  bool same_origin = next->host == request->url.host && next->port == request->url.port && next->scheme == request->url.scheme;
  if (!same_origin) {
    request->headers.remove("authorization");
    request->headers.remove("cookie");
    request->extra_cookies.clear();
  }
  request->url = std::move(*next);
  return send_hop(request);
}

// Copies the finished exchange into a new response object on L's stack.
LuaResponse* push_response(lua_State* L, PendingRequest* request, const http::ResponseData& data,
                           std::string_view error) {
  std::string_view texts[] = {data.header_bytes, data.body, request->url_text, request->original_method, request->name,
                              error};
  std::size_t spans_size = data.headers.size() * sizeof(http::HeaderSpan);
  std::size_t text_size = 0;
  for (std::string_view text : texts) text_size += text.size();
  void* memory = lua_newuserdata(L, sizeof(LuaResponse) + spans_size + text_size);
  auto* response = new (memory) LuaResponse{};
  response->status = data.status;
  response->header_count = static_cast<std::uint32_t>(data.headers.size());
  // Every redirect included; the time requests sat in the write batch not.
  response->elapsed_ns = data.completed_ns - request->started_ns - request->timings.queued_ns;
  response->content_length = data.content_length;
  response->body_discarded = data.body_discarded;
  response->timings = request->timings;
  if (spans_size) std::memcpy(const_cast<http::HeaderSpan*>(response->spans()), data.headers.data(), spans_size);
  char* out = const_cast<char*>(response->text());
  Piece* pieces[] = {&response->header_bytes, &response->body, &response->url,
                     &response->method, &response->name, &response->error};
  std::uint32_t offset = 0;
  for (std::size_t i = 0; i < std::size(texts); ++i) {
    if (!texts[i].empty()) std::memcpy(out + offset, texts[i].data(), texts[i].size());
    *pieces[i] = Piece{offset, static_cast<std::uint32_t>(texts[i].size())};
    offset += static_cast<std::uint32_t>(texts[i].size());
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, request->context->response_metatable_ref);
  lua_setmetatable(L, -2);
  if (!request->history.empty()) {
    // The redirects followed, as {status =, url =} tables, in the environment table.
    lua_createtable(L, 0, 2);
    lua_createtable(L, static_cast<int>(request->history.size()), 0);
    for (std::size_t i = 0; i < request->history.size(); ++i) {
      lua_createtable(L, 0, 2);
      lua_pushinteger(L, request->history[i].first);
      lua_setfield(L, -2, "status");
      lua_pushlstring(L, request->history[i].second.data(), request->history[i].second.size());
      lua_setfield(L, -2, "url");
      lua_rawseti(L, -2, static_cast<int>(i + 1));
    }
    lua_setfield(L, -2, "history");
    lua_setfenv(L, -2);
    response->has_environment = true;
  }
  return response;
}

Sample sample_of(const LuaResponse& response, std::string_view error) {
  Sample sample;
  sample.method = response.view(response.method);
  sample.name = response.view(response.name);
  sample.response_us = (response.elapsed_ns + 500) / 1000;
  sample.length = response.content_length;
  sample.error = error;
  sample.status = response.status;
  sample.url = response.view(response.url);
  return sample;
}

void on_exchange_done(void* waiter, http::ResponseData& data) {
  auto* request = static_cast<PendingRequest*>(waiter);
  request->client->release(request->connection);
  request->connection = nullptr;
  // Every hop's Set-Cookie lines go to the jar, one at a time (Expires dates hold commas).
  for (const http::HeaderSpan& header : data.headers) {
    std::string_view name = data.header_name(header);
    if (name.size() == 10 && (name[0] | 0x20) == 's' && strncasecmp(name.data(), "set-cookie", 10) == 0)
      request->client->cookies().store(data.header_value(header), request->url.scheme, request->url.host,
                                       path_only(request->url.path), std::time(nullptr));
  }
  http::Timings& total = request->timings;
  const http::Timings& hop = data.timings;
  total.dns_ns += hop.dns_ns;
  total.connect_ns += hop.connect_ns;
  total.tls_ns += hop.tls_ns;
  total.send_ns += hop.send_ns;
  total.wait_ns += hop.wait_ns;
  total.receive_ns += hop.receive_ns;
  total.queued_ns += hop.queued_ns;
  const char* error_override = nullptr;
  if (data.error.empty() && follow_redirect(request, data, &error_override)) return;
  finish_request(request, data, error_override);
}

// The last hop is done: make the response, record it (unless the script decides), and hand it
// to the user (or to its batch).
void finish_request(PendingRequest* request, http::ResponseData& data, const char* error_override) {
  common::ThreadContext* ctx = request->context;
  vu::Vu* user = request->user;
  lua_State* L = ctx->main_state;
  lua_checkstack(L, 6);
  LuaResponse* response = push_response(L, request, data, error_override ? error_override : data.error);
  int response_index = lua_gettop(L);

  if (request->catch_response) {
    // The script gives the verdict; whatever it has not decided when the task ends is
    // recorded by status then (see response_task_end).
    response->awaiting_verdict = true;
    lua_pushvalue(L, response_index);
    user->scheduler->defer_until_task_end(user, luaL_ref(L, LUA_REGISTRYINDEX));
  } else {
    int request_index = 0;
    if (request->request_ref != LUA_NOREF) {
      lua_rawgeti(L, LUA_REGISTRYINDEX, request->request_ref);
      request_index = lua_gettop(L);
    }
    Sample sample = sample_of(*response, response->view(response->error));
    sample.user = user;  // the open model corrects for how late the user's iteration started
    record_sample(L, ctx, sample, response_index, request_index);
    lua_settop(L, response_index);
  }

  Batch* batch = request->batch;
  if (!batch) {
    release_pending_request(request);
    lua_xmove(L, user->co, 1);
    user->scheduler->complete(user, 1);
    return;
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, batch->results_ref);
  lua_pushvalue(L, response_index);
  lua_rawseti(L, -2, request->batch_index);
  lua_settop(L, response_index - 1);
  batch->requests[static_cast<std::size_t>(request->batch_index - 1)] = nullptr;
  release_pending_request(request);
  if (--batch->remaining > 0) return;
  lua_rawgeti(L, LUA_REGISTRYINDEX, batch->results_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, batch->results_ref);
  lua_xmove(L, user->co, 1);
  delete batch;
  user->scheduler->complete(user, 1);
}

vu::Vu* running_user_or_error(lua_State* L, common::ThreadContext* ctx) {
  vu::Vu* user = ctx->scheduler ? ctx->scheduler->running_user(L) : nullptr;
  if (!user) luaL_error(L, "HTTP requests can only be made from a user (a task, on_start or on_stop)");
  return user;
}

// Its user was stopped while it waited for its answer: counted apart, so that a server that
// never answers does not look like an idle run.
void count_in_flight_at_stop(const PendingRequest* request) {
  if (request->context && request->context->stats)
    request->context->stats->record_in_flight_at_stop(request->original_method, request->name,
                                                      (uv_hrtime() - request->started_ns) / 1000);
}

void abort_request(PendingRequest* request) {
  if (request->connection) {
    request->connection->abort();
    request->client->release(request->connection);
  }
  release_pending_request(request);
}

// The pooled request being prepared. When prepare_request raises a Lua error half-way, it
// stays here for the next request: nothing leaks, and nothing is copied when all goes well.
thread_local std::unique_ptr<PendingRequest> preparing;

PendingRequest* preparing_request() {
  if (!preparing) preparing.reset(acquire_pending_request());
  return preparing.get();
}

PendingRequest* take_prepared(common::ThreadContext* ctx, http::Client* client, vu::Vu* user) {
  PendingRequest* request = preparing.release();
  request->context = ctx;
  request->client = client;
  request->user = user;
  return request;
}

// client:request(method, path, opts) and the verb shortcuts.
int start_request(lua_State* L, std::string_view method, int path_index, int opts_index) {
  common::ThreadContext* ctx = context(L);
  http::Client* client = check_client(L, 1, ctx);
  vu::Vu* user = running_user_or_error(L, ctx);
  prepare_request(L, ctx, client, method, path_index, opts_index, preparing_request());
  PendingRequest* request = take_prepared(ctx, client, user);
  request->started_ns = uv_hrtime();
  if (!send_hop(request)) {
    release_pending_request(request);
    return luaL_error(L, "too many requests in flight to one host from one user");
  }
  ctx->scheduler->wait(user, vu::PendingOp{[](void* r) {
                                             count_in_flight_at_stop(static_cast<PendingRequest*>(r));
                                             abort_request(static_cast<PendingRequest*>(r));
                                           },
                                           request});
  return lua_yield(L, 0);
}

std::string_view method_argument(lua_State* L, int index, std::string& storage) {
  std::string_view method = luaL_checkstring(L, index);
  storage.assign(method);
  for (char& c : storage) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (storage.empty() || !std::all_of(storage.begin(), storage.end(), [](char c) { return http::is_token_char(c); }))
    luaL_argerror(L, index, "invalid HTTP method (a method is a token: letters, digits and !#$%&'*+-.^_`|~)");
  return storage;
}

int client_request(lua_State* L) {
  thread_local std::string method;
  return start_request(L, method_argument(L, 2, method), 3, 4);
}

template <const char* Method>
int client_verb(lua_State* L) {
  return start_request(L, Method, 2, 3);
}

constexpr char kGet[] = "GET";
constexpr char kPost[] = "POST";
constexpr char kPut[] = "PUT";
constexpr char kPatch[] = "PATCH";
constexpr char kDelete[] = "DELETE";
constexpr char kHead[] = "HEAD";
constexpr char kOptions[] = "OPTIONS";

// client:batch{ {method, path, opts}, ... } -> { response, ... } in the same order.
int client_batch(lua_State* L) {
  common::ThreadContext* ctx = context(L);
  http::Client* client = check_client(L, 1, ctx);
  luaL_checktype(L, 2, LUA_TTABLE);
  vu::Vu* user = running_user_or_error(L, ctx);
  int count = static_cast<int>(lua_objlen(L, 2));
  if (count == 0) {
    lua_newtable(L);
    return 1;
  }
  auto batch = std::make_unique<Batch>();
  batch->user = user;
  batch->context = ctx;
  // Prepare every request first, so a mistake in any of them raises before anything is sent.
  std::vector<PendingRequest*> prepared;
  auto give_back = [&] {
    for (PendingRequest* r : prepared) release_pending_request(r);
  };
  for (int i = 1; i <= count; ++i) {
    lua_rawgeti(L, 2, i);
    int item = lua_gettop(L);
    bool well_formed = lua_istable(L, item);
    if (well_formed) {
      lua_rawgeti(L, item, 1);
      lua_rawgeti(L, item, 2);
      lua_rawgeti(L, item, 3);
      well_formed = lua_isstring(L, item + 1) && lua_isstring(L, item + 2);
    }
    if (!well_formed) {
      give_back();
      return luaL_error(L, "batch item %d must be {method, path[, opts]}", i);
    }
    thread_local std::string method;
    method_argument(L, item + 1, method);
    // A mistake in item i raises here; the requests prepared so far must go back first.
    lua_pushcfunction(L, [](lua_State* inner) -> int {
      auto* c = static_cast<common::ThreadContext*>(lua_touserdata(inner, 1));
      auto* cl = static_cast<http::Client*>(lua_touserdata(inner, 2));
      prepare_request(inner, c, cl, method, 3, lua_isnil(inner, 4) ? 0 : 4, preparing_request());
      return 0;
    });
    lua_pushlightuserdata(L, ctx);
    lua_pushlightuserdata(L, client);
    lua_pushvalue(L, item + 2);
    lua_pushvalue(L, item + 3);
    if (lua_pcall(L, 4, 0, 0) != 0) {
      give_back();
      lua_pushfstring(L, "batch item %d: %s", i, lua_tostring(L, -1));
      return lua_error(L);
    }
    PendingRequest* request = take_prepared(ctx, client, user);
    request->batch_index = i;
    prepared.push_back(request);
    lua_settop(L, item - 1);
  }
  lua_createtable(L, count, 0);
  batch->results_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  batch->requests = prepared;
  batch->remaining = prepared.size();
  std::uint64_t now = uv_hrtime();
  for (PendingRequest* request : prepared) {
    request->batch = batch.get();
    request->started_ns = now;
    if (!send_hop(request)) {
      for (PendingRequest*& r : batch->requests) {
        if (!r) continue;
        abort_request(r);
        r = nullptr;
      }
      luaL_unref(L, LUA_REGISTRYINDEX, batch->results_ref);
      return luaL_error(L, "too many requests in flight to one host from one user");
    }
  }
  ctx->scheduler->wait(user, vu::PendingOp{[](void* b) {
                                             auto* stopped = static_cast<Batch*>(b);
                                             for (PendingRequest* r : stopped->requests) {
                                               if (!r) continue;
                                               count_in_flight_at_stop(r);
                                               abort_request(r);
                                             }
                                             luaL_unref(stopped->context->main_state, LUA_REGISTRYINDEX,
                                                        stopped->results_ref);
                                             delete stopped;
                                           },
                                           batch.release()});
  return lua_yield(L, 0);
}

int client_gc(lua_State* L) {
  static_cast<http::Client*>(lua_touserdata(L, 1))->~Client();
  return 0;
}

int client_tostring(lua_State* L) {
  auto* client = static_cast<http::Client*>(lua_touserdata(L, 1));
  const http::Url* base = client->base();
  lua_pushfstring(L, "cicada.Client(%s)", base ? (base->scheme + "://" + base->host_header()).c_str() : "no host");
  return 1;
}

// client.cookies: the jar's cookies that are not expired, as {name = value}.
void push_cookie_table(lua_State* L, http::Client* client) {
  const auto& cookies = client->cookies().all(std::time(nullptr));
  lua_createtable(L, 0, static_cast<int>(cookies.size()));
  for (const http::Cookie& cookie : cookies) {
    lua_pushlstring(L, cookie.name.data(), cookie.name.size());
    lua_pushlstring(L, cookie.value.data(), cookie.value.size());
    lua_rawset(L, -3);
  }
}

// A cookie set by the script belongs to the user's host unless it names a domain.
http::Cookie script_cookie(lua_State* L, http::Client* client, std::string name, std::string value, int opts) {
  http::Cookie cookie;
  cookie.name = std::move(name);
  cookie.value = std::move(value);
  cookie.path = "/";
  if (const http::Url* base = client->base()) cookie.domain = base->host;
  if (opts && lua_istable(L, opts)) {
    lua_getfield(L, opts, "domain");
    if (lua_isstring(L, -1)) {
      cookie.domain = lua_tostring(L, -1);
      cookie.host_only = false;
    }
    lua_getfield(L, opts, "path");
    if (lua_isstring(L, -1)) cookie.path = lua_tostring(L, -1);
    lua_getfield(L, opts, "secure");
    cookie.secure = lua_toboolean(L, -1) != 0;
    lua_getfield(L, opts, "http_only");
    cookie.http_only = lua_toboolean(L, -1) != 0;
    lua_getfield(L, opts, "expires");
    if (lua_isnumber(L, -1)) cookie.expires_at = static_cast<std::int64_t>(lua_tonumber(L, -1));
    lua_pop(L, 5);
  }
  if (cookie.domain.empty()) luaL_error(L, "cookie %s: no domain (the client has no host; give opts.domain)", cookie.name.c_str());
  return cookie;
}

// client:set_cookie(name, value[, {domain=, path=, secure=, http_only=, expires=}])
int client_set_cookie(lua_State* L) {
  http::Client* client = check_client(L, 1, context(L));
  std::string name = luaL_checkstring(L, 2);
  std::string value = luaL_checkstring(L, 3);
  if (!client->cookies().set(script_cookie(L, client, name, std::move(value), lua_isnoneornil(L, 4) ? 0 : 4)))
    return luaL_error(L, "client:set_cookie: invalid cookie %s (bad name, ';' or a line break in the value, or too big)",
                      name.c_str());
  return 0;
}

int client_clear_cookies(lua_State* L) {
  check_client(L, 1, context(L))->cookies().clear();
  return 0;
}

// client.cookies: a table of the jar's cookies, made when read.
int client_cookies(lua_State* L) {
  push_cookie_table(L, check_client(L, 1, context(L)));
  return 1;
}

// The client's __index runs for every request (`self.client:get`). As a Lua function it is a
// table look-up in the interpreter; as a C function it cost a C call and a string compare more.
constexpr char kClientIndexSource[] = R"lua(
local methods, cookies_of = ...
return function(client, key)
  local method = methods[key]
  if method ~= nil then return method end
  if key == "cookies" then return cookies_of(client) end
  return nil
end
)lua";

// client.cookies = {name = value}: replaces the jar with these cookies for the user's host.
int client_newindex(lua_State* L) {
  auto* client = static_cast<http::Client*>(lua_touserdata(L, 1));
  if (lua_type(L, 2) != LUA_TSTRING || to_view(L, 2) != "cookies")
    return luaL_error(L, "a cicada client has no settable field '%s' (only cookies)", lua_tostring(L, 2));
  luaL_checktype(L, 3, LUA_TTABLE);
  client->cookies().clear();
  lua_pushnil(L);
  while (lua_next(L, 3) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING || !lua_isstring(L, -1)) return luaL_error(L, "client.cookies must be {name = value}");
    lua_pushvalue(L, -1);
    if (!client->cookies().set(script_cookie(L, client, lua_tostring(L, -3), lua_tostring(L, -1), 0)))
      return luaL_error(L, "client.cookies: invalid cookie %s", lua_tostring(L, -3));
    lua_pop(L, 2);
  }
  return 0;
}

// http.new_client(base_url_or_nil, {timeout=, connect_timeout=, first_byte_timeout=,
// idle_timeout=, max_body=, discard_body=, verify=, cert=, allow_redirects=, max_redirects=,
// pool = "user"|"thread"})
int new_client(lua_State* L) {
  common::ThreadContext* ctx = context(L);
  std::optional<http::Url> base;
  if (!lua_isnoneornil(L, 1)) {
    std::string error;
    base = http::parse_url(luaL_checkstring(L, 1), &error);
    if (!base) return luaL_error(L, "invalid host: %s", error.c_str());
  }
  http::ClientOptions options;
  options.tls = ctx->http->default_tls();
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    OptionSlots o = collect_options(L, 2, kClientOptions, "client");
    read_limits(L, o, &options.limits);
    http::TlsSettings tls = *options.tls;
    if (read_tls(L, o, &tls)) options.tls = std::make_shared<const http::TlsSettings>(std::move(tls));
    if (o.has(kAllowRedirects)) options.allow_redirects = bool_at(L, o.at(kAllowRedirects), "allow_redirects");
    if (o.has(kMaxRedirects)) {
      if (!lua_isnumber(L, o.at(kMaxRedirects)) || lua_tonumber(L, o.at(kMaxRedirects)) < 0)
        return luaL_error(L, "max_redirects must be a number >= 0");
      options.max_redirects = static_cast<int>(lua_tonumber(L, o.at(kMaxRedirects)));
    }
    if (o.has(kPool)) {
      std::string_view pool = lua_type(L, o.at(kPool)) == LUA_TSTRING ? to_view(L, o.at(kPool)) : std::string_view{};
      if (pool != "user" && pool != "thread") return luaL_error(L, "pool must be \"user\" or \"thread\"");
      options.share_connections = pool == "thread";
    }
    lua_settop(L, 2);
  }
  void* memory = lua_newuserdata(L, sizeof(http::Client));
  new (memory) http::Client(ctx->http, std::move(base), std::move(options));
  push_registry_slot(L, &kClientMetatable);
  lua_setmetatable(L, -2);
  return 1;
}

// --- the response object ------------------------------------------------------------------

// The userdata's own environment table (for the headers table and the history), made on first use.
void push_environment(lua_State* L, int response_index, LuaResponse* response) {
  if (!response->has_environment) {
    lua_createtable(L, 0, 2);
    lua_setfenv(L, response_index);
    response->has_environment = true;
  }
  lua_getfenv(L, response_index);
}

void push_headers(lua_State* L, int response_index, LuaResponse* response) {
  push_environment(L, response_index, response);
  lua_getfield(L, -1, "headers");
  if (!lua_isnil(L, -1)) {
    lua_remove(L, -2);
    return;
  }
  lua_pop(L, 1);
  lua_createtable(L, 0, static_cast<int>(response->header_count));
  for (std::uint32_t i = 0; i < response->header_count; ++i) {
    const http::HeaderSpan& h = response->spans()[i];
    std::string name = common::lowercase_ascii(response->header_name(h));
    std::string_view value = response->header_value(h);
    lua_pushlstring(L, name.data(), name.size());
    lua_pushvalue(L, -1);
    lua_rawget(L, -3);
    if (lua_isstring(L, -1)) {
      // Repeated headers are joined as one comma-separated value, as HTTP allows.
      lua_pushliteral(L, ", ");
      lua_pushlstring(L, value.data(), value.size());
      lua_concat(L, 3);
    } else {
      lua_pop(L, 1);
      lua_pushlstring(L, value.data(), value.size());
    }
    lua_rawset(L, -3);
  }
  push_registry_slot(L, &kHeadersMetatable);
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "headers");
  lua_remove(L, -2);
}

// Case-insensitive lookup for res.headers["Content-Type"].
int headers_index(lua_State* L) {
  if (lua_type(L, 2) != LUA_TSTRING) return 0;
  std::string lowered = common::lowercase_ascii(to_view(L, 2));
  lua_pushlstring(L, lowered.data(), lowered.size());
  lua_rawget(L, 1);
  return 1;
}

void push_timings(lua_State* L, const http::Timings& t) {
  lua_createtable(L, 0, 6);
  const std::pair<const char*, std::uint64_t> fields[] = {{"dns", t.dns_ns},   {"connect", t.connect_ns},
                                                          {"tls", t.tls_ns},   {"send", t.send_ns},
                                                          {"wait", t.wait_ns}, {"receive", t.receive_ns}};
  for (const auto& [name, ns] : fields) {
    lua_pushnumber(L, static_cast<double>(ns) / 1e9);
    lua_setfield(L, -2, name);
  }
}

int response_json(lua_State* L) {
  LuaResponse* response = check_response(L, 1);
  std::string_view body = response->view(response->body);
  push_registry_slot(L, &kJsonDecode);
  lua_pushlstring(L, body.data(), body.size());
  if (lua_pcall(L, 1, 1, 0) != 0) {
    std::string reason(to_view(L, -1));
    std::string preview(body.substr(0, 60));
    for (char& c : preview)
      if (c == '\n' || c == '\r') c = ' ';
    std::string url(response->view(response->url));
    return luaL_error(L, "res:json(): the body of %s is not valid JSON (%s); body starts with: \"%s\"", url.c_str(),
                      reason.c_str(), preview.c_str());
  }
  return 1;
}

// Records a catch_response response with the script's verdict (`error` empty = success).
void settle(lua_State* L, LuaResponse* response, std::string_view error) {
  response->awaiting_verdict = false;
  record_sample(L, script::thread_context_of(L), sample_of(*response, error), 1, 0);
}

LuaResponse* check_awaiting_verdict(lua_State* L, const char* method) {
  LuaResponse* response = check_response(L, 1);
  if (!response->awaiting_verdict)
    luaL_error(L, "res:%s(): %s", method, "only for requests made with catch_response = true, once, before the task ends");
  return response;
}

// res:success(): record this response as a success whatever its status (a 429 that is expected).
int response_success(lua_State* L) {
  LuaResponse* response = check_awaiting_verdict(L, "success");
  settle(L, response, "");
  return 0;
}

// res:failure(message): record this response as a failure with `message` as its error.
int response_failure(lua_State* L) {
  LuaResponse* response = check_awaiting_verdict(L, "failure");
  std::string message = lua_isnoneornil(L, 2) ? "failure" : luaL_checkstring(L, 2);
  if (message.empty()) message = "failure";
  settle(L, response, message);
  return 0;
}

// Called by the scheduler when the task that made a catch_response request ends.
int response_task_end(lua_State* L) {
  LuaResponse* response = check_response(L, 1);
  if (response->awaiting_verdict) settle(L, response, response->view(response->error));
  return 0;
}

void push_view(lua_State* L, std::string_view text) { lua_pushlstring(L, text.data(), text.size()); }

int response_index(lua_State* L) {
  auto* response = static_cast<LuaResponse*>(lua_touserdata(L, 1));
  std::size_t length = 0;
  const char* key = lua_tolstring(L, 2, &length);
  if (!key) return 0;
  std::string_view k(key, length);
  if (k == "status") {
    lua_pushinteger(L, response->status);
  } else if (k == "ok") {
    lua_pushboolean(L, response->error.length == 0);
  } else if (k == "body" || k == "text") {
    push_view(L, response->view(response->body));
  } else if (k == "error") {
    if (response->error.length == 0) {
      lua_pushnil(L);
    } else {
      push_view(L, response->view(response->error));
    }
  } else if (k == "headers") {
    push_headers(L, 1, response);
  } else if (k == "elapsed") {
    lua_pushnumber(L, static_cast<double>(response->elapsed_ns) / 1e9);
  } else if (k == "url") {
    push_view(L, response->view(response->url));
  } else if (k == "reason") {
    push_view(L, http::reason_phrase(response->status));
  } else if (k == "length") {
    lua_pushnumber(L, static_cast<double>(response->content_length));
  } else if (k == "body_discarded") {
    lua_pushboolean(L, response->body_discarded);
  } else if (k == "timings") {
    push_timings(L, response->timings);
  } else if (k == "history") {
    if (response->has_environment) {
      lua_getfenv(L, 1);
      lua_getfield(L, -1, "history");
    } else {
      lua_pushnil(L);
    }
    if (lua_isnil(L, -1)) lua_newtable(L);
  } else if (k == "json") {
    push_registry_slot(L, &kResponseJsonMethod);
  } else if (k == "success") {
    push_registry_slot(L, &kResponseSuccessMethod);
  } else if (k == "failure") {
    push_registry_slot(L, &kResponseFailureMethod);
  } else {
    lua_pushnil(L);
  }
  return 1;
}

int response_tostring(lua_State* L) {
  auto* response = static_cast<LuaResponse*>(lua_touserdata(L, 1));
  if (response->status == 0) {
    std::string error(response->view(response->error));
    lua_pushfstring(L, "<Response [%s]>", error.c_str());
  } else {
    lua_pushfstring(L, "<Response [%d]>", response->status);
  }
  return 1;
}

void set_metamethod(lua_State* L, const char* name, lua_CFunction fn) {
  lua_pushcfunction(L, fn);
  lua_setfield(L, -2, name);
}

}  // namespace

int luaopen_cicada_http(lua_State* L) {
  common::ThreadContext* ctx = script::thread_context_of(L);
  if (!ctx || !ctx->http) return luaL_error(L, "cicada.http loaded outside a cicada thread");

  require_module(L, "cicada.json");
  lua_getfield(L, -1, "encode");
  set_registry_slot(L, &kJsonEncode);
  lua_getfield(L, -1, "decode");
  set_registry_slot(L, &kJsonDecode);
  lua_pop(L, 1);

  // Client: methods take the thread context as upvalue.
  static const luaL_Reg client_methods[] = {
      {"request", client_request},        {"get", client_verb<kGet>},         {"post", client_verb<kPost>},
      {"put", client_verb<kPut>},         {"patch", client_verb<kPatch>},     {"delete", client_verb<kDelete>},
      {"head", client_verb<kHead>},       {"options", client_verb<kOptions>}, {"batch", client_batch},
      {"set_cookie", client_set_cookie},  {"clear_cookies", client_clear_cookies}, {nullptr, nullptr},
  };
  lua_newtable(L);
  for (const luaL_Reg* fn = client_methods; fn->name; ++fn) {
    lua_pushlightuserdata(L, ctx);
    lua_pushcclosure(L, fn->func, 1);
    lua_setfield(L, -2, fn->name);
  }

  int methods = lua_gettop(L);
  lua_newtable(L);
  if (luaL_loadbuffer(L, kClientIndexSource, sizeof kClientIndexSource - 1, "=cicada.http client index") != 0)
    return lua_error(L);
  lua_pushvalue(L, methods);
  lua_pushlightuserdata(L, ctx);
  lua_pushcclosure(L, client_cookies, 1);
  lua_call(L, 2, 1);
  lua_setfield(L, -2, "__index");
  lua_remove(L, methods);
  set_metamethod(L, "__newindex", client_newindex);
  set_metamethod(L, "__gc", client_gc);
  set_metamethod(L, "__tostring", client_tostring);
  lua_pushliteral(L, "cicada.Client");
  lua_setfield(L, -2, "__metatable");
  ctx->client_metatable = lua_topointer(L, -1);  // anchored in the registry: the address holds
  set_registry_slot(L, &kClientMetatable);

  lua_newtable(L);
  set_metamethod(L, "__index", response_index);
  set_metamethod(L, "__tostring", response_tostring);
  set_metamethod(L, "__cicada_task_end", response_task_end);
  lua_pushliteral(L, "cicada.Response");
  lua_setfield(L, -2, "__metatable");
  lua_pushvalue(L, -1);
  ctx->response_metatable_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  set_registry_slot(L, &kResponseMetatable);

  lua_pushcfunction(L, response_json);
  set_registry_slot(L, &kResponseJsonMethod);
  lua_pushcfunction(L, response_success);
  set_registry_slot(L, &kResponseSuccessMethod);
  lua_pushcfunction(L, response_failure);
  set_registry_slot(L, &kResponseFailureMethod);

  lua_newtable(L);
  set_metamethod(L, "__index", headers_index);
  set_registry_slot(L, &kHeadersMetatable);

  lua_newtable(L);
  lua_pushlightuserdata(L, ctx);
  lua_pushcclosure(L, new_client, 1);
  lua_setfield(L, -2, "new_client");
  return 1;
}

}  // namespace cicada::bindings
