#pragma once
// Small helpers shared by the binding files.
#include <lua.hpp>

#include <string_view>

namespace cicada::bindings {

inline std::string_view to_view(lua_State* L, int index) {
  std::size_t length = 0;
  const char* text = lua_tolstring(L, index, &length);
  return text ? std::string_view(text, length) : std::string_view{};
}

// Registry slots keyed by the address of a static object: faster than string keys.
inline void push_registry_slot(lua_State* L, const void* key) {
  lua_pushlightuserdata(L, const_cast<void*>(key));
  lua_rawget(L, LUA_REGISTRYINDEX);
}

inline void set_registry_slot(lua_State* L, const void* key) {  // pops the value
  lua_pushlightuserdata(L, const_cast<void*>(key));
  lua_insert(L, -2);
  lua_rawset(L, LUA_REGISTRYINDEX);
}

// Calls require(name) and leaves the module on the stack.
inline void require_module(lua_State* L, const char* name) {
  lua_getglobal(L, "require");
  lua_pushstring(L, name);
  lua_call(L, 1, 1);
}

}  // namespace cicada::bindings
