#pragma once
// Just enough JSON for the target's endpoints: writing its documents, and reading one string
// member out of a client's object (/login, /api/validate-key, POST /api/jobs). A full DOM would
// cost allocations per request for no benefit here.

#include <cstdint>
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

// Appends one JSON object to `out` member by member, placing the commas:
//   json::ObjectWriter(out).string("name", name).number("id", 7).close();
// Names are escaped like values, so client text can be a name too.
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string& out) : out_(out) { out_ += '{'; }
  ObjectWriter(const ObjectWriter&) = delete;
  ObjectWriter& operator=(const ObjectWriter&) = delete;

  ObjectWriter& string(std::string_view name, std::string_view value);
  ObjectWriter& number(std::string_view name, uint64_t value);
  ObjectWriter& boolean(std::string_view name, bool value);
  // Writes the name of a member whose value (an array, an object, a number with a fraction) the
  // caller appends to the string returned.
  std::string& member(std::string_view name);
  void close() { out_ += '}'; }

 private:
  std::string& out_;
  bool first_ = true;
};

enum class MemberLookup { found, missing, not_a_string, malformed };

// Validates `document` as a single JSON object and decodes its top-level member `name` into
// `value` when that member is a string. When the name repeats, the last one counts, as in most
// JSON parsers.
MemberLookup find_string_member(std::string_view document, std::string_view name, std::string& value);

}  // namespace cicada::target::json
