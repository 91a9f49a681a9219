#pragma once
// Just enough JSON for the target's endpoints: escaping for the documents it writes, and reading
// one string member out of a client's object (/login). A full DOM would cost allocations per
// request for no benefit here.

#include <string>
#include <string_view>

namespace cicada::target::json {

// Appends `text` escaped for use inside a JSON string, without the quotes. Bytes from 0x80 up
// are copied unchanged, so UTF-8 text comes back exactly as the client sent it.
void append_escaped(std::string& out, std::string_view text);

// Appends `text` as a quoted JSON string.
inline void append_string(std::string& out, std::string_view text) {
  out += '"';
  append_escaped(out, text);
  out += '"';
}

enum class MemberLookup { found, missing, not_a_string, malformed };

// Validates `document` as a single JSON object and decodes its top-level member `name` into
// `value` when that member is a string. When the name repeats, the last one counts, as in most
// JSON parsers.
MemberLookup find_string_member(std::string_view document, std::string_view name, std::string& value);

}  // namespace cicada::target::json
