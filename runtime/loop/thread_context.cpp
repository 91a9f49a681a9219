#include "runtime/loop/thread_context.h"

#include <lua.hpp>

namespace cicada::loop {

namespace {
// Its address is the registry key; the value is a light userdata pointing at the context.
const char kRegistryKey = 0;
}  // namespace

void ThreadContext::install(lua_State* L) {
  lua_pushlightuserdata(L, const_cast<char*>(&kRegistryKey));
  lua_pushlightuserdata(L, this);
  lua_rawset(L, LUA_REGISTRYINDEX);
}

ThreadContext* ThreadContext::from(lua_State* L) {
  lua_pushlightuserdata(L, const_cast<char*>(&kRegistryKey));
  lua_rawget(L, LUA_REGISTRYINDEX);
  auto* context = static_cast<ThreadContext*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  return context;
}

}  // namespace cicada::loop
