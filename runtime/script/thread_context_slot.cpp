#include "runtime/script/thread_context_slot.h"

#include <lua.hpp>

#include "runtime/common/thread_context.h"

namespace cicada::script {

namespace {
// Its address is the registry key; the value is a light userdata pointing at the context.
const char kRegistryKey = 0;
}  // namespace

void install_thread_context(lua_State* L, common::ThreadContext* context) {
  lua_pushlightuserdata(L, const_cast<char*>(&kRegistryKey));
  lua_pushlightuserdata(L, context);
  lua_rawset(L, LUA_REGISTRYINDEX);
}

common::ThreadContext* thread_context_of(lua_State* L) {
  lua_pushlightuserdata(L, const_cast<char*>(&kRegistryKey));
  lua_rawget(L, LUA_REGISTRYINDEX);
  auto* context = static_cast<common::ThreadContext*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  return context;
}

}  // namespace cicada::script
