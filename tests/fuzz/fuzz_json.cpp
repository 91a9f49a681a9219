// libFuzzer target: JSON decoding as scripts meet it (res:json(), cicada.json.decode), through
// the cicada.json module (bindings/cicada_json.cpp, lua-cjson with cicada's settings): decode
// under pcall, and encode what decoded. Neither may crash, whatever the bytes.
#include <lua.hpp>

#include <cstdint>
#include <cstdlib>

#include "bindings/modules.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A state per input (they are cheap): cjson's buffers live in LuaJIT's own heap, which the
  // leak checker cannot see into, so a state kept across inputs would look like a leak.
  lua_State* L = luaL_newstate();
  luaL_openlibs(L);
  cicada::bindings::luaopen_cicada_json(L);
  lua_setglobal(L, "json");
  if (luaL_dostring(L, "return function(text)\n"
                       "  local ok, value = pcall(json.decode, text)\n"
                       "  if ok then pcall(json.encode, value) end\n"
                       "end\n") != 0)
    std::abort();
  lua_pushlstring(L, reinterpret_cast<const char*>(data), size);
  if (lua_pcall(L, 1, 0, 0) != 0) std::abort();  // the round trip itself never raises
  lua_close(L);
  return 0;
}
