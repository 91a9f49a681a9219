// cicada.json: JSON encode/decode, backed by lua-cjson (Debian's lua-cjson).
#include <lua.hpp>

#include "bindings/modules.h"

extern "C" int luaopen_cjson(lua_State* L);

namespace cicada::bindings {

int luaopen_cicada_json(lua_State* L) {
  luaopen_cjson(L);
  // Locust scripts expect request bodies like {"ids": {}} to stay objects and numbers to
  // round-trip; cjson's defaults do both. Refuse deep recursion rather than overflow.
  lua_getfield(L, -1, "encode_max_depth");
  lua_pushinteger(L, 128);
  lua_call(L, 1, 0);
  lua_getfield(L, -1, "decode_max_depth");
  lua_pushinteger(L, 128);
  lua_call(L, 1, 0);
  return 1;
}

}  // namespace cicada::bindings
