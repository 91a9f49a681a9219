// cicada.http: the HTTP client of a virtual user and the response object.
//
//   local client = http.new_client("http://127.0.0.1:8080")   -- base URL or nil
//   local res = client:get("/items", { params = {page = 2}, name = "/items" })
//   res.status, res.ok, res.error, res.body, res.headers["content-type"], res.elapsed, res:json()
//
// A request call yields the user's coroutine until the exchange completes; network failures
// come back as a response with status 0 and `error` set, never as a Lua error. Misuse (bad
// arguments, calling outside a user) raises a Lua error.
#include <lua.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "bindings/lua_util.h"
#include "bindings/modules.h"
#include "bindings/sample_recorder.h"
#include "runtime/http/client.h"
#include "runtime/http/http_runtime.h"
#include "runtime/http/request_writer.h"
#include "runtime/loop/thread_context.h"
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

struct LuaResponse {
  http::ResponseData data;
  http::HttpRuntime* runtime = nullptr;
  int headers_ref = LUA_NOREF;  // the headers table, built on first access
  bool awaiting_verdict = false;  // catch_response: recorded by res:success()/res:failure()
};

// What the binding remembers about a request in flight, beyond what the connection knows.
struct PendingRequest {
  vu::Vu* user = nullptr;
  http::Connection* connection = nullptr;
  loop::ThreadContext* context = nullptr;
  bool catch_response = false;
  int request_ref = LUA_NOREF;  // request table for request_failure listeners, when there are any
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
  *request = PendingRequest{};
  if (free_pending_requests.size() < 4096) {
    free_pending_requests.emplace_back(request);
  } else {
    delete request;
  }
}

Sample sample_of(const http::ResponseData& data, std::string_view error) {
  Sample sample;
  sample.method = data.method;
  sample.name = data.name;
  sample.response_us = (data.elapsed_ns + 500) / 1000;
  sample.length = data.content_length;
  sample.error = error;
  sample.status = data.status;
  sample.url = data.url;
  return sample;
}

loop::ThreadContext* context(lua_State* L) {
  return static_cast<loop::ThreadContext*>(lua_touserdata(L, lua_upvalueindex(1)));
}

http::Client* check_client(lua_State* L, int index) {
  auto* client = static_cast<http::Client*>(lua_touserdata(L, index));
  if (client && lua_getmetatable(L, index)) {
    push_registry_slot(L, &kClientMetatable);
    bool same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    if (same) return client;
  }
  luaL_typerror(L, index, "cicada client (use self.client:get(...), with a colon)");
  return nullptr;
}

LuaResponse* check_response(lua_State* L, int index) {
  auto* response = static_cast<LuaResponse*>(lua_touserdata(L, index));
  if (response && lua_getmetatable(L, index)) {
    push_registry_slot(L, &kResponseMetatable);
    bool same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    if (same) return response;
  }
  luaL_typerror(L, index, "cicada response (use res:json(), with a colon)");
  return nullptr;
}

// --- building the request ---------------------------------------------------------------

// Scratch buffers reused by every request of the thread; the strings keep their capacity.
struct RequestScratch {
  std::string target;
  std::string url;
  std::vector<std::pair<std::string, std::string>> params;
};
thread_local RequestScratch scratch;

void append_param_value(lua_State* L, int index, std::string& out) {
  switch (lua_type(L, index)) {
    case LUA_TSTRING:
    case LUA_TNUMBER:
      http::append_query_encoded(out, to_view(L, index));
      break;
    case LUA_TBOOLEAN:
      out += lua_toboolean(L, index) ? "true" : "false";
      break;
    default:
      luaL_error(L, "opts.params values must be strings, numbers, booleans or lists of them (got %s)",
                 luaL_typename(L, index));
  }
}

// opts.params = {q = "x", tag = {"a", "b"}}: appended as ?q=x&tag=a&tag=b, keys sorted so the
// same table always gives the same URL (and the same stats name).
void append_params(lua_State* L, int params_index, std::string& target) {
  if (lua_isnil(L, params_index)) return;
  luaL_argcheck(L, lua_istable(L, params_index), 3, "opts.params must be a table");
  auto& params = scratch.params;
  params.clear();
  lua_pushnil(L);
  while (lua_next(L, params_index) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING && lua_type(L, -2) != LUA_TNUMBER) luaL_error(L, "opts.params keys must be strings");
    lua_pushvalue(L, -2);
    std::string key(to_view(L, -1));
    lua_pop(L, 1);
    if (lua_istable(L, -1)) {
      int list = lua_gettop(L);
      for (int i = 1;; ++i) {
        lua_rawgeti(L, list, i);
        if (lua_isnil(L, -1)) {
          lua_pop(L, 1);
          break;
        }
        std::string value;
        append_param_value(L, -1, value);
        params.emplace_back(key, std::move(value));
        lua_pop(L, 1);
      }
    } else {
      std::string value;
      append_param_value(L, -1, value);
      params.emplace_back(std::move(key), std::move(value));
    }
    lua_pop(L, 1);
  }
  std::stable_sort(params.begin(), params.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  bool has_query = target.find('?') != std::string::npos;
  for (const auto& [key, value] : params) {
    target.push_back(has_query ? '&' : '?');
    has_query = true;
    http::append_query_encoded(target, key);
    target.push_back('=');
    target += value;
  }
}

void write_headers(lua_State* L, int headers_index, http::RequestWriter& writer) {
  if (lua_isnil(L, headers_index)) return;
  luaL_argcheck(L, lua_istable(L, headers_index), 3, "opts.headers must be a table");
  lua_pushnil(L);
  while (lua_next(L, headers_index) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING) luaL_error(L, "opts.headers keys must be strings");
    int value_type = lua_type(L, -1);
    if (value_type != LUA_TSTRING && value_type != LUA_TNUMBER)
      luaL_error(L, "opts.headers[\"%s\"] must be a string or a number", lua_tostring(L, -2));
    lua_pushvalue(L, -1);  // tostring on a number key/value must not disturb lua_next
    std::string_view value = to_view(L, -1);
    if (!writer.header(to_view(L, -3), value))
      luaL_error(L, "invalid header \"%s\": names are tokens, values must not contain CR, LF or NUL",
                 lua_tostring(L, -3));
    lua_pop(L, 2);
  }
}

void on_exchange_done(void* waiter, http::ResponseData& data);

// client:request(method, path, opts) and the verb shortcuts.
int start_request(lua_State* L, std::string_view method, int path_index, int opts_index) {
  loop::ThreadContext* ctx = context(L);
  http::Client* client = check_client(L, 1);
  std::size_t path_length = 0;
  const char* path_chars = luaL_checklstring(L, path_index, &path_length);
  std::string_view path(path_chars, path_length);
  bool has_opts = !lua_isnoneornil(L, opts_index);
  if (has_opts) luaL_checktype(L, opts_index, LUA_TTABLE);
  vu::Vu* user = ctx->scheduler ? ctx->scheduler->running_user(L) : nullptr;
  if (!user) return luaL_error(L, "HTTP requests can only be made from a user (a task, on_start or on_stop)");

  // Where to: an absolute URL, or the path joined to the user's host.
  http::Url absolute;
  const http::Url* endpoint;
  std::string& target = scratch.target;
  if (http::is_absolute_url(path)) {
    std::string error;
    auto parsed = http::parse_url(path, &error);
    if (!parsed) return luaL_error(L, "%s", error.c_str());
    absolute = std::move(*parsed);
    endpoint = &absolute;
    target = absolute.path;
  } else {
    endpoint = client->base();
    if (!endpoint)
      return luaL_error(L, "no host to send \"%s\" to: pass -H/--host, set host= on the user class, or use an absolute URL",
                        path_chars);
    http::join_target(target, endpoint->path, path);
  }
  if (endpoint->is_tls()) return luaL_error(L, "https:// is not supported yet (TLS comes in a later release): %s", path_chars);

  // Options. Stack slots after opts_index hold the fields we read.
  int top = lua_gettop(L);
  int params_index = 0, headers_index = 0, name_index = 0, body_index = 0, json_index = 0, timeout_index = 0,
      catch_index = 0;
  if (has_opts) {
    const char* fields[] = {"params", "headers", "name", "body", "json", "timeout", "catch_response"};
    int* slots[] = {&params_index, &headers_index, &name_index, &body_index, &json_index, &timeout_index, &catch_index};
    for (int i = 0; i < 7; ++i) {
      lua_getfield(L, opts_index, fields[i]);
      *slots[i] = lua_gettop(L);
    }
    append_params(L, params_index, target);
  }

  std::string_view name = target;
  if (name_index && !lua_isnil(L, name_index)) {
    if (lua_type(L, name_index) != LUA_TSTRING) return luaL_error(L, "opts.name must be a string");
    name = to_view(L, name_index);
  }

  std::string_view body;
  std::string_view content_type;
  if (body_index && !lua_isnil(L, body_index)) {
    if (lua_type(L, body_index) != LUA_TSTRING) return luaL_error(L, "opts.body must be a string (use opts.json for tables)");
    body = to_view(L, body_index);
  } else if (json_index && !lua_isnil(L, json_index)) {
    push_registry_slot(L, &kJsonEncode);
    lua_pushvalue(L, json_index);
    if (lua_pcall(L, 1, 1, 0) != 0) return luaL_error(L, "opts.json cannot be encoded: %s", lua_tostring(L, -1));
    body = to_view(L, -1);
    content_type = "application/json";
  }

  double timeout_s = 0;
  if (timeout_index && !lua_isnil(L, timeout_index)) {
    if (!lua_isnumber(L, timeout_index)) return luaL_error(L, "opts.timeout must be a number of seconds");
    timeout_s = lua_tonumber(L, timeout_index);
    if (!(timeout_s > 0) || !std::isfinite(timeout_s)) return luaL_error(L, "opts.timeout must be > 0 seconds");
  }

  http::Connection* connection = client->connection_for(*endpoint);
  if (connection->busy())
    return luaL_error(L, "this client is already waiting for a response: one request at a time per client");

  http::RequestWriter writer(connection->request_bytes());
  writer.start(method, target);
  if (headers_index) write_headers(L, headers_index, writer);
  writer.finish(connection->host_header(), ctx->http->defaults().user_agent, body, content_type);

  std::string& url = scratch.url;
  url.assign(connection->origin()).append(target);

  PendingRequest* pending = acquire_pending_request();
  pending->user = user;
  pending->connection = connection;
  pending->context = ctx;
  pending->catch_response = catch_index && lua_toboolean(L, catch_index);
  if (ctx->failure_listener_ref != LUA_NOREF) {
    // request_failure listeners see what was sent; only built when someone listens.
    lua_createtable(L, 0, 5);
    lua_pushlstring(L, method.data(), method.size());
    lua_setfield(L, -2, "method");
    lua_pushlstring(L, url.data(), url.size());
    lua_setfield(L, -2, "url");
    lua_pushlstring(L, name.data(), name.size());
    lua_setfield(L, -2, "name");
    if (headers_index && lua_istable(L, headers_index)) {
      lua_pushvalue(L, headers_index);
    } else {
      lua_newtable(L);
    }
    lua_setfield(L, -2, "headers");
    if (!body.empty()) {
      lua_pushlstring(L, body.data(), body.size());
      lua_setfield(L, -2, "body");
    }
    pending->request_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }

  http::Connection::Exchange exchange;
  exchange.method = method;
  exchange.name = name;
  exchange.url = url;
  exchange.timeout_s = timeout_s;
  exchange.waiter = pending;
  exchange.on_complete = &on_exchange_done;
  connection->start(exchange);
  lua_settop(L, top);
  ctx->scheduler->wait(user, vu::PendingOp{[](void* p) {
                                             auto* request = static_cast<PendingRequest*>(p);
                                             request->connection->abort();
                                             release_pending_request(request);
                                           },
                                           pending});
  return lua_yield(L, 0);
}

void on_exchange_done(void* waiter, http::ResponseData& data) {
  auto* pending = static_cast<PendingRequest*>(waiter);
  vu::Vu* user = pending->user;
  loop::ThreadContext* ctx = pending->context;
  lua_State* co = user->co;
  lua_checkstack(co, 4);
  auto* response = new (lua_newuserdata(co, sizeof(LuaResponse))) LuaResponse{};
  response->runtime = ctx->http;
  ctx->http->take_pooled(response->data);
  response->data.swap(data);
  push_registry_slot(co, &kResponseMetatable);
  lua_setmetatable(co, -2);

  if (pending->catch_response) {
    // The script gives the verdict; whatever it has not decided when the task ends is
    // recorded by status then (see response_task_end).
    response->awaiting_verdict = true;
    lua_pushvalue(co, -1);
    user->scheduler->defer_until_task_end(user, luaL_ref(co, LUA_REGISTRYINDEX));
  } else {
    lua_State* L = ctx->main_state;
    bool listeners = ctx->request_listener_ref != LUA_NOREF || ctx->failure_listener_ref != LUA_NOREF;
    if (listeners) {
      lua_pushvalue(co, -1);
      lua_xmove(co, L, 1);
      if (pending->request_ref != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, pending->request_ref);
      } else {
        lua_pushnil(L);
      }
    }
    record_sample(L, ctx, sample_of(response->data, response->data.error), listeners ? -2 : 0,
                  listeners && pending->request_ref != LUA_NOREF ? -1 : 0);
    if (listeners) lua_pop(L, 2);
  }
  release_pending_request(pending);
  user->scheduler->complete(user, 1);
}

std::string_view method_argument(lua_State* L, int index, std::string& storage) {
  std::string_view method = luaL_checkstring(L, index);
  storage.assign(method);
  for (char& c : storage) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (storage.empty() || storage.find_first_of(" \r\n\t") != std::string::npos) luaL_argerror(L, index, "invalid HTTP method");
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

// http.new_client(base_url_or_nil)
int new_client(lua_State* L) {
  loop::ThreadContext* ctx = context(L);
  std::optional<http::Url> base;
  if (!lua_isnoneornil(L, 1)) {
    std::string error;
    base = http::parse_url(luaL_checkstring(L, 1), &error);
    if (!base) return luaL_error(L, "invalid host: %s", error.c_str());
  }
  void* memory = lua_newuserdata(L, sizeof(http::Client));
  new (memory) http::Client(ctx->http, std::move(base));
  push_registry_slot(L, &kClientMetatable);
  lua_setmetatable(L, -2);
  return 1;
}

// --- the response object ------------------------------------------------------------------

void push_headers(lua_State* L, LuaResponse* response) {
  if (response->headers_ref != LUA_NOREF) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, response->headers_ref);
    return;
  }
  const http::ResponseData& data = response->data;
  lua_createtable(L, 0, static_cast<int>(data.headers.size()));
  std::string lowered;
  for (const http::HeaderSpan& h : data.headers) {
    std::string_view name = data.header_name(h);
    lowered.assign(name);
    for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = data.header_value(h);
    lua_pushlstring(L, lowered.data(), lowered.size());
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
  response->headers_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

// Case-insensitive lookup for res.headers["Content-Type"].
int headers_index(lua_State* L) {
  if (lua_type(L, 2) != LUA_TSTRING) return 0;
  std::string lowered(to_view(L, 2));
  for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  lua_pushlstring(L, lowered.data(), lowered.size());
  lua_rawget(L, 1);
  return 1;
}

int response_json(lua_State* L) {
  LuaResponse* response = check_response(L, 1);
  push_registry_slot(L, &kJsonDecode);
  lua_pushlstring(L, response->data.body.data(), response->data.body.size());
  if (lua_pcall(L, 1, 1, 0) != 0) {
    std::string reason(to_view(L, -1));
    std::string preview = response->data.body.substr(0, 60);
    for (char& c : preview)
      if (c == '\n' || c == '\r') c = ' ';
    return luaL_error(L, "res:json(): the body of %s is not valid JSON (%s); body starts with: \"%s\"",
                      response->data.url.c_str(), reason.c_str(), preview.c_str());
  }
  return 1;
}

// Records a catch_response response with the script's verdict (`error` empty = success).
void settle(lua_State* L, LuaResponse* response, std::string_view error) {
  response->awaiting_verdict = false;
  loop::ThreadContext* ctx = loop::ThreadContext::from(L);
  record_sample(L, ctx, sample_of(response->data, error), 1, 0);
}

LuaResponse* check_awaiting_verdict(lua_State* L, const char* method) {
  LuaResponse* response = check_response(L, 1);
  if (!response->awaiting_verdict)
    luaL_error(L, "res:%s(): %s", method,
               "only for requests made with catch_response = true, once, before the task ends");
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
  if (response->awaiting_verdict) settle(L, response, response->data.error);
  return 0;
}

int response_index(lua_State* L) {
  auto* response = static_cast<LuaResponse*>(lua_touserdata(L, 1));
  std::size_t length = 0;
  const char* key = lua_tolstring(L, 2, &length);
  if (!key) return 0;
  const http::ResponseData& data = response->data;
  std::string_view k(key, length);
  if (k == "status") {
    lua_pushinteger(L, data.status);
  } else if (k == "ok") {
    lua_pushboolean(L, data.error.empty());
  } else if (k == "body" || k == "text") {
    lua_pushlstring(L, data.body.data(), data.body.size());
  } else if (k == "error") {
    if (data.error.empty()) {
      lua_pushnil(L);
    } else {
      lua_pushlstring(L, data.error.data(), data.error.size());
    }
  } else if (k == "headers") {
    push_headers(L, response);
  } else if (k == "elapsed") {
    lua_pushnumber(L, static_cast<double>(data.elapsed_ns) / 1e9);
  } else if (k == "url") {
    lua_pushlstring(L, data.url.data(), data.url.size());
  } else if (k == "reason") {
    std::string_view reason = http::reason_phrase(data.status);
    lua_pushlstring(L, reason.data(), reason.size());
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

int response_gc(lua_State* L) {
  auto* response = static_cast<LuaResponse*>(lua_touserdata(L, 1));
  if (response->headers_ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, response->headers_ref);
  response->runtime->give_back(response->data);
  response->~LuaResponse();
  return 0;
}

int response_tostring(lua_State* L) {
  auto* response = static_cast<LuaResponse*>(lua_touserdata(L, 1));
  if (response->data.status == 0) {
    lua_pushfstring(L, "<Response [%s]>", response->data.error.c_str());
  } else {
    lua_pushfstring(L, "<Response [%d]>", response->data.status);
  }
  return 1;
}

}  // namespace

int luaopen_cicada_http(lua_State* L) {
  loop::ThreadContext* ctx = loop::ThreadContext::from(L);
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
      {"head", client_verb<kHead>},       {"options", client_verb<kOptions>}, {nullptr, nullptr},
  };
  lua_newtable(L);  // metatable
  lua_newtable(L);  // methods
  for (const luaL_Reg* fn = client_methods; fn->name; ++fn) {
    lua_pushlightuserdata(L, ctx);
    lua_pushcclosure(L, fn->func, 1);
    lua_setfield(L, -2, fn->name);
  }
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, client_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, client_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, "cicada.Client");
  lua_setfield(L, -2, "__metatable");
  set_registry_slot(L, &kClientMetatable);

  lua_newtable(L);
  lua_pushcfunction(L, response_index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, response_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, response_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushcfunction(L, response_task_end);
  lua_setfield(L, -2, "__cicada_task_end");
  lua_pushliteral(L, "cicada.Response");
  lua_setfield(L, -2, "__metatable");
  set_registry_slot(L, &kResponseMetatable);

  lua_pushcfunction(L, response_json);
  set_registry_slot(L, &kResponseJsonMethod);
  lua_pushcfunction(L, response_success);
  set_registry_slot(L, &kResponseSuccessMethod);
  lua_pushcfunction(L, response_failure);
  set_registry_slot(L, &kResponseFailureMethod);

  lua_newtable(L);
  lua_pushcfunction(L, headers_index);
  lua_setfield(L, -2, "__index");
  set_registry_slot(L, &kHeadersMetatable);

  lua_newtable(L);
  lua_pushlightuserdata(L, ctx);
  lua_pushcclosure(L, new_client, 1);
  lua_setfield(L, -2, "new_client");
  return 1;
}

}  // namespace cicada::bindings
