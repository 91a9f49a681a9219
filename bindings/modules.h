#pragma once
// The native Lua modules, registered in package.preload by the script host.
struct lua_State;

namespace cicada::bindings {

int luaopen_cicada_core(lua_State* L);  // "cicada.core": scheduler hooks, sleep, time
int luaopen_cicada_http(lua_State* L);  // "cicada.http": client and response objects
int luaopen_cicada_json(lua_State* L);  // "cicada.json": JSON via lua-cjson

}  // namespace cicada::bindings
