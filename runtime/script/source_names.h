#pragma once
// LuaJIT cuts the file name in error messages and tracebacks to its last 56 characters
// ("...ts/integration/scenarios/shop.lua:5: ..."): a user reading the message then cannot
// tell which file it was. These helpers put the whole path back.
#include <string>

namespace cicada::script {

// Replaces every shortened form of `script_path` in `text` with the full path.
void restore_long_source_names(std::string* text, const std::string& script_path);

}  // namespace cicada::script
