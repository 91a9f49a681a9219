#pragma once
// A Lua value copied out of one lua_State so it can be pushed into another (another thread's):
// nil, booleans, numbers, strings and tables of those. Setup data travels this way.
#include <string>
#include <utility>
#include <vector>

struct lua_State;

namespace cicada::script {

class LuaValue {
 public:
  enum class Type { Nil, Boolean, Number, String, Table };

  // Copies the value at `index`. Functions, userdata, threads and cycles are refused with a
  // message naming where they were found ("setup data.users[3].fn is a function").
  static bool copy_from(lua_State* L, int index, LuaValue* out, std::string* error, const std::string& path);
  void push(lua_State* L) const;
  static LuaValue number(double value) {
    LuaValue out;
    out.type_ = Type::Number;
    out.number_ = value;
    return out;
  }

  Type type() const { return type_; }

 private:
  bool copy(lua_State* L, int index, std::string* error, const std::string& path, std::vector<const void*>& open_tables);

  Type type_ = Type::Nil;
  bool boolean_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<std::pair<LuaValue, LuaValue>> table_;
};

}  // namespace cicada::script
