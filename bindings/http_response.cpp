// cicada.http: the response object. One userdata holds the whole response (see LuaResponse);
// its Lua values (body, headers table, history) are made when the script asks for them.
#include "bindings/http_binding.h"

#include <cstring>
#include <new>
#include <string>

#include "runtime/common/text.h"
#include "runtime/script/thread_context_slot.h"
#include "runtime/stats/stats_book.h"

namespace cicada::bindings::http_binding {

LuaResponse* check_response(lua_State* L, int index) {
  return check_userdata<LuaResponse>(L, index, &kResponseMetatable, "cicada response (use res:json(), with a colon)");
}

// Copies the finished exchange into a new response object on L's stack.
LuaResponse* push_response(lua_State* L, PendingRequest* request, const http::ResponseData& data,
                           std::string_view error) {
  const http::Request& http = request->http;
  std::string_view texts[] = {data.header_bytes, data.body, http.url_text(), http.original_method, request->name,
                              error};
  std::size_t spans_size = data.headers.size() * sizeof(http::HeaderSpan);
  std::size_t text_size = 0;
  for (std::string_view text : texts) text_size += text.size();
  void* memory = lua_newuserdata(L, sizeof(LuaResponse) + spans_size + text_size);
  auto* response = new (memory) LuaResponse{};
  response->status = data.status;
  response->header_count = static_cast<std::uint32_t>(data.headers.size());
  // Every redirect included; the time requests sat in the write batch not.
  response->elapsed_ns = data.completed_ns - http.started_ns() - http.timings().queued_ns;
  response->content_length = data.content_length;
  response->body_discarded = data.body_discarded;
  response->timings = http.timings();
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
  const auto& history = http.history();
  if (!history.empty()) {
    // The redirects followed, as {status =, url =} tables, in the environment table.
    lua_createtable(L, 0, 2);
    lua_createtable(L, static_cast<int>(history.size()), 0);
    for (std::size_t i = 0; i < history.size(); ++i) {
      lua_createtable(L, 0, 2);
      lua_pushinteger(L, history[i].first);
      lua_setfield(L, -2, "status");
      lua_pushlstring(L, history[i].second.data(), history[i].second.size());
      lua_setfield(L, -2, "url");
      lua_rawseti(L, -2, static_cast<int>(i + 1));
    }
    lua_setfield(L, -2, "history");
    lua_setfenv(L, -2);
    response->has_environment = true;
  }
  return response;
}

// --- the response object ------------------------------------------------------------------

namespace {

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

}  // namespace

void open_response_type(lua_State* L, common::ThreadContext* ctx) {
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
}

}  // namespace cicada::bindings::http_binding
