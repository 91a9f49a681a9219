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

#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "bindings/http_binding.h"
#include "bindings/lua_util.h"
#include "bindings/modules.h"
#include "bindings/sample_recorder.h"
#include "runtime/common/text.h"
#include "runtime/common/thread_context.h"
#include "runtime/http/client.h"
#include "runtime/http/http_runtime.h"
#include "runtime/http/request.h"
#include "runtime/http/request_writer.h"
#include "runtime/script/thread_context_slot.h"
#include "runtime/stats/stats_book.h"
#include "runtime/vu/scheduler.h"

namespace cicada::bindings {

using namespace http_binding;

namespace {

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
  request->batch = nullptr;
  if (free_pending_requests.size() < 4096) {
    free_pending_requests.emplace_back(request);
  } else {
    delete request;
  }
}

common::ThreadContext* context(lua_State* L) {
  return static_cast<common::ThreadContext*>(lua_touserdata(L, lua_upvalueindex(1)));
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

// The last hop is done: make the response, record it (unless the script decides), and hand it
// to the user (or to its batch).
void finish_request(void* owner, http::Request&, http::ResponseData& data, std::string_view error) {
  auto* request = static_cast<PendingRequest*>(owner);
  common::ThreadContext* ctx = request->context;
  vu::Vu* user = request->user;
  lua_State* L = ctx->main_state;
  lua_checkstack(L, 6);
  LuaResponse* response = push_response(L, request, data, error);
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
    request->context->stats->record_in_flight_at_stop(request->http.original_method, request->name,
                                                      (uv_hrtime() - request->http.started_ns()) / 1000);
}

void abort_request(PendingRequest* request) {
  request->http.abort();
  release_pending_request(request);
}

// The pooled request being prepared. When prepare_request raises a Lua error half-way, it
// stays here for the next request: nothing leaks, and nothing is copied when all goes well.
thread_local std::unique_ptr<PendingRequest> preparing;

PendingRequest* preparing_request() {
  if (!preparing) preparing.reset(acquire_pending_request());
  return preparing.get();
}

PendingRequest* take_prepared(common::ThreadContext* ctx, vu::Vu* user) {
  PendingRequest* request = preparing.release();
  request->context = ctx;
  request->user = user;
  return request;
}

// client:request(method, path, opts) and the verb shortcuts.
int start_request(lua_State* L, std::string_view method, int path_index, int opts_index) {
  common::ThreadContext* ctx = context(L);
  http::Client* client = check_client(L, 1, ctx);
  vu::Vu* user = running_user_or_error(L, ctx);
  prepare_request(L, ctx, client, method, path_index, opts_index, preparing_request());
  PendingRequest* request = take_prepared(ctx, user);
  if (!request->http.start(client, uv_hrtime(), request, &finish_request)) {
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
    PendingRequest* request = take_prepared(ctx, user);
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
    if (!request->http.start(client, now, request, &finish_request)) {
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

  http_binding::open_response_type(L, ctx);

  lua_newtable(L);
  lua_pushlightuserdata(L, ctx);
  lua_pushcclosure(L, new_client, 1);
  lua_setfield(L, -2, "new_client");
  return 1;
}

}  // namespace cicada::bindings
