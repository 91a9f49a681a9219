#pragma once
// JSON text without a DOM: escaping, one streaming writer, and reading one string member out of
// an object (the target's /login, /api/validate-key, POST /api/jobs). A DOM would cost
// allocations per request for no benefit here; Lua values have their own codec (cicada.json).

#include <cstdint>
#include <string>
#include <string_view>

namespace cicada::common::json {

// Appends `text` escaped for use inside a JSON string, without the quotes. Bytes from 0x80 up
// are copied unchanged, so UTF-8 text comes back exactly as the client sent it.
void append_escaped(std::string& out, std::string_view text);

// Appends `text` as a quoted JSON string.
inline void append_string(std::string& out, std::string_view text) {
  out += '"';
  append_escaped(out, text);
  out += '"';
}

// Writes JSON in order into `out`, placing the commas; the one writer of the runtime (reports,
// the target's documents, and next the web API). Containers nest up to 64 deep without any
// allocation of its own, so the target can use it per request:
//   json::Writer(out).begin_object().field("name", name).field("id", 7).end_object();
// Names are escaped like values, so client text can be a name too.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  Writer& begin_object() { return open('{'); }
  Writer& end_object() { return close('}'); }
  Writer& begin_array() { return open('['); }
  Writer& end_array() { return close(']'); }
  Writer& key(std::string_view name);
  Writer& string(std::string_view value);
  Writer& integer(std::uint64_t value);
  // The shortest text that reads back exactly, in plain decimals for the magnitudes reports hold
  // (100000 rather than 1e+05); null for NaN and infinities, which JSON cannot hold.
  Writer& number(double value);
  Writer& boolean(bool value);
  Writer& null();
  // A value the caller has already written as JSON (a cached document, a list).
  Writer& raw(std::string_view json_text);
  // Writes `name` and returns the text for the caller to append the member's value to itself.
  std::string& member(std::string_view name);

  Writer& field(std::string_view name, std::string_view value) { return key(name).string(value); }
  Writer& field(std::string_view name, const char* value) { return key(name).string(value); }
  Writer& field(std::string_view name, std::uint64_t value) { return key(name).integer(value); }
  Writer& field(std::string_view name, int value) { return key(name).number(value); }
  Writer& field(std::string_view name, double value) { return key(name).number(value); }
  Writer& field(std::string_view name, bool value) { return key(name).boolean(value); }

 private:
  void separate();
  Writer& open(char bracket);
  Writer& close(char bracket);

  std::string& out_;
  std::uint64_t written_ = 0;  // bit d: the container at depth d already holds a value
  int depth_ = 0;
  bool after_key_ = false;
};

enum class MemberLookup { found, missing, not_a_string, malformed };

// Validates `document` as a single JSON object and decodes its top-level member `name` into
// `value` when that member is a string. When the name repeats, the last one counts, as in most
// JSON parsers.
MemberLookup find_string_member(std::string_view document, std::string_view name, std::string& value);

}  // namespace cicada::common::json
