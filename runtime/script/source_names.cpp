#include "runtime/script/source_names.h"

#include <lua.hpp>

namespace cicada::script {

void restore_long_source_names(std::string* text, const std::string& script_path) {
  // lj_debug_shortname: a "@file" chunk name of LUA_IDSIZE or more characters becomes
  // "..." followed by its last LUA_IDSIZE - 4 characters.
  constexpr std::size_t kKept = LUA_IDSIZE - 4;
  if (script_path.size() < LUA_IDSIZE) return;
  const std::string shortened = "..." + script_path.substr(script_path.size() - kKept);
  std::size_t at = 0;
  while ((at = text->find(shortened, at)) != std::string::npos) {
    text->replace(at, shortened.size(), script_path);
    at += script_path.size();
  }
}

}  // namespace cicada::script
