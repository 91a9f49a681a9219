#include "runtime/script/lua_value.h"

#include <lua.hpp>

#include <algorithm>

namespace cicada::script {

bool LuaValue::copy_from(lua_State* L, int index, LuaValue* out, std::string* error, const std::string& path) {
  std::vector<const void*> open_tables;
  if (index < 0) index = lua_gettop(L) + index + 1;
  return out->copy(L, index, error, path, open_tables);
}

bool LuaValue::copy(lua_State* L, int index, std::string* error, const std::string& path,
                    std::vector<const void*>& open_tables) {
  switch (lua_type(L, index)) {
    case LUA_TNIL:
      type_ = Type::Nil;
      return true;
    case LUA_TBOOLEAN:
      type_ = Type::Boolean;
      boolean_ = lua_toboolean(L, index) != 0;
      return true;
    case LUA_TNUMBER:
      type_ = Type::Number;
      number_ = lua_tonumber(L, index);
      return true;
    case LUA_TSTRING: {
      type_ = Type::String;
      std::size_t length = 0;
      const char* text = lua_tolstring(L, index, &length);
      string_.assign(text, length);
      return true;
    }
    case LUA_TLIGHTUSERDATA:
      // json.null decodes to a NULL light userdata: it crosses as nil.
      if (lua_touserdata(L, index) == nullptr) {
        type_ = Type::Nil;
        return true;
      }
      break;
    case LUA_TTABLE: {
      const void* identity = lua_topointer(L, index);
      if (std::find(open_tables.begin(), open_tables.end(), identity) != open_tables.end()) {
        *error = path + " refers back to a table that contains it (cycles cannot be copied)";
        return false;
      }
      open_tables.push_back(identity);
      type_ = Type::Table;
      lua_checkstack(L, 4);
      lua_pushnil(L);
      while (lua_next(L, index) != 0) {
        LuaValue key, value;
        int top = lua_gettop(L);
        std::string key_path = path;
        if (lua_type(L, top - 1) == LUA_TSTRING) {
          key_path += "." + std::string(lua_tostring(L, top - 1));
        } else if (lua_type(L, top - 1) == LUA_TNUMBER) {
          lua_pushvalue(L, top - 1);
          key_path += "[" + std::string(lua_tostring(L, -1)) + "]";
          lua_pop(L, 1);
        }
        if (!key.copy(L, top - 1, error, path + " (a key)", open_tables) ||
            !value.copy(L, top, error, key_path, open_tables)) {
          lua_pop(L, 2);
          return false;
        }
        table_.emplace_back(std::move(key), std::move(value));
        lua_pop(L, 1);
      }
      open_tables.pop_back();
      return true;
    }
    default:
      break;
  }
  *error = path + " is a " + luaL_typename(L, index) + "; only nil, booleans, numbers, strings and tables of those can be shared";
  return false;
}

void LuaValue::push(lua_State* L) const {
  lua_checkstack(L, 3);
  switch (type_) {
    case Type::Nil:
      lua_pushnil(L);
      break;
    case Type::Boolean:
      lua_pushboolean(L, boolean_);
      break;
    case Type::Number:
      lua_pushnumber(L, number_);
      break;
    case Type::String:
      lua_pushlstring(L, string_.data(), string_.size());
      break;
    case Type::Table:
      lua_createtable(L, 0, static_cast<int>(table_.size()));
      for (const auto& [key, value] : table_) {
        if (key.type_ == Type::Nil) continue;
        key.push(L);
        value.push(L);
        lua_rawset(L, -3);
      }
      break;
  }
}

}  // namespace cicada::script
