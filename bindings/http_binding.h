#pragma once
// What the files of cicada.http share: the response object's layout, a request in flight, the
// option slots of requests and clients, and the functions one file offers the others.
//   cicada_http.cpp    the client: its methods, batches, cookies, the module
//   http_options.cpp   reading a request's or a client's options, building what a request sends
//   http_response.cpp  the response object
// The life of a request itself (hops, redirects, cookies, deadline) is runtime/http/request.h.
#include <lua.hpp>
#include <strings.h>

#include <cassert>
#include <cstdint>
#include <string>
#include <string_view>

#include "bindings/lua_util.h"
#include "bindings/sample_recorder.h"
#include "runtime/common/thread_context.h"
#include "runtime/http/client.h"
#include "runtime/http/request.h"
#include "runtime/http/response.h"
#include "runtime/vu/scheduler.h"

namespace cicada::bindings::http_binding {

// Registry keys (their addresses).
inline const char kClientMetatable = 0;
inline const char kResponseMetatable = 0;
inline const char kHeadersMetatable = 0;
inline const char kJsonEncode = 0;
inline const char kJsonDecode = 0;
inline const char kResponseJsonMethod = 0;
inline const char kResponseSuccessMethod = 0;
inline const char kResponseFailureMethod = 0;

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

// A request of a user in flight: the HTTP request (runtime/http/request.h: hops, redirects,
// cookies, deadline, timings) and what the binding needs to hand its response back. Pooled per
// thread; strings keep their capacity.
struct PendingRequest {
  vu::Vu* user = nullptr;
  common::ThreadContext* context = nullptr;
  Batch* batch = nullptr;  // set for requests of client:batch{}
  int batch_index = 0;
  bool catch_response = false;
  int request_ref = LUA_NOREF;  // request table for request_failure listeners, when there are any
  std::string name;
  http::Request http;
};

// client:batch{...}: requests in parallel; the user resumes when the last one is done.
struct Batch {
  vu::Vu* user = nullptr;
  common::ThreadContext* context = nullptr;
  int results_ref = LUA_NOREF;  // the table of responses, filled in order
  std::vector<PendingRequest*> requests;
  std::size_t remaining = 0;
};

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

inline void set_metamethod(lua_State* L, const char* name, lua_CFunction fn) {
  lua_pushcfunction(L, fn);
  lua_setfield(L, -2, name);
}

// http_options.cpp
OptionSlots collect_options(lua_State* L, int table, std::uint32_t allowed, const char* what);
bool bool_at(lua_State* L, int index, std::string_view name);
void read_limits(lua_State* L, const OptionSlots& o, http::ExchangeLimits* limits);
// Returns true when verify or cert was given.
bool read_tls(lua_State* L, const OptionSlots& o, http::TlsSettings* tls);
// `text` with control characters shown as \xNN, for messages.
std::string printable(std::string_view text);
// Reads a request call's path and options into `request` (misuse raises a Lua error).
void prepare_request(lua_State* L, common::ThreadContext* ctx, http::Client* client, std::string_view method,
                     int path_index, int opts_index, PendingRequest* request);

// http_response.cpp
LuaResponse* check_response(lua_State* L, int index);
// Copies the finished request into a new response object on L's stack.
LuaResponse* push_response(lua_State* L, PendingRequest* request, const http::ResponseData& data,
                           std::string_view error);
// What the stats record of a response.
inline Sample sample_of(const LuaResponse& response, std::string_view error) {
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

// The response's metatable and methods, in the registry; sets ctx->response_metatable_ref.
void open_response_type(lua_State* L, common::ThreadContext* ctx);

}  // namespace cicada::bindings::http_binding
