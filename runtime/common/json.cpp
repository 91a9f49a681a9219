#include "runtime/common/json.h"

#include <cassert>
#include <charconv>
#include <cmath>

#include "runtime/common/text.h"

namespace cicada::common::json {

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

// Client documents nest at most this deep: a hostile "[[[[..." must not exhaust the stack.
constexpr int kMaxNesting = 64;

bool needs_escape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

void append_utf8(std::string& out, unsigned code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

// A strict recursive-descent reader over untrusted bytes: every method checks the end of input
// and returns false on anything RFC 8259 does not allow.
class Reader {
 public:
  explicit Reader(std::string_view text) : cursor_(text.data()), end_(text.data() + text.size()) {}

  void skip_whitespace() {
    while (cursor_ < end_ && (*cursor_ == ' ' || *cursor_ == '\t' || *cursor_ == '\n' || *cursor_ == '\r')) ++cursor_;
  }
  bool at_end() const { return cursor_ == end_; }
  bool next_is(char c) const { return cursor_ < end_ && *cursor_ == c; }
  bool consume(char c) {
    if (!next_is(c)) return false;
    ++cursor_;
    return true;
  }

  // Reads a string token; decodes it into `decoded` unless that is null.
  bool read_string(std::string* decoded) {
    if (!consume('"')) return false;
    while (cursor_ < end_) {
      const auto c = static_cast<unsigned char>(*cursor_++);
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c != '\\') {
        if (decoded) *decoded += static_cast<char>(c);
        continue;
      }
      if (cursor_ == end_) return false;
      char unescaped;
      switch (*cursor_++) {
        case '"': unescaped = '"'; break;
        case '\\': unescaped = '\\'; break;
        case '/': unescaped = '/'; break;
        case 'b': unescaped = '\b'; break;
        case 'f': unescaped = '\f'; break;
        case 'n': unescaped = '\n'; break;
        case 'r': unescaped = '\r'; break;
        case 't': unescaped = '\t'; break;
        case 'u': {
          unsigned code_point;
          if (!read_code_point(code_point)) return false;
          if (decoded) append_utf8(*decoded, code_point);
          continue;
        }
        default: return false;
      }
      if (decoded) *decoded += unescaped;
    }
    return false;
  }

  bool skip_value(int depth) {
    if (depth > kMaxNesting || cursor_ == end_) return false;
    switch (*cursor_) {
      case '{': return skip_container('}', depth, true);
      case '[': return skip_container(']', depth, false);
      case '"': return read_string(nullptr);
      case 't': return skip_word("true");
      case 'f': return skip_word("false");
      case 'n': return skip_word("null");
      default: return skip_number();
    }
  }

 private:
  bool skip_container(char closer, int depth, bool has_keys) {
    ++cursor_;
    skip_whitespace();
    if (consume(closer)) return true;
    for (;;) {
      skip_whitespace();
      if (has_keys) {
        if (!read_string(nullptr)) return false;
        skip_whitespace();
        if (!consume(':')) return false;
        skip_whitespace();
      }
      if (!skip_value(depth + 1)) return false;
      skip_whitespace();
      if (consume(',')) continue;
      return consume(closer);
    }
  }

  bool skip_word(std::string_view word) {
    if (static_cast<size_t>(end_ - cursor_) < word.size() || std::string_view(cursor_, word.size()) != word) return false;
    cursor_ += word.size();
    return true;
  }

  bool next_is_digit() const { return cursor_ < end_ && *cursor_ >= '0' && *cursor_ <= '9'; }
  void skip_digits() {
    while (next_is_digit()) ++cursor_;
  }

  bool skip_number() {
    consume('-');
    if (consume('0')) {
      // A leading zero stands alone: "01" is not JSON.
    } else if (next_is_digit()) {
      skip_digits();
    } else {
      return false;
    }
    if (consume('.')) {
      if (!next_is_digit()) return false;
      skip_digits();
    }
    if (consume('e') || consume('E')) {
      if (!consume('+')) consume('-');
      if (!next_is_digit()) return false;
      skip_digits();
    }
    return true;
  }

  bool read_hex4(unsigned& value) {
    if (end_ - cursor_ < 4) return false;
    value = 0;
    for (int i = 0; i < 4; ++i) {
      const int digit = hex_digit_value(*cursor_++);
      if (digit < 0) return false;
      value = value * 16 + static_cast<unsigned>(digit);
    }
    return true;
  }

  // After "\u": one BMP code point, or a surrogate pair spelled as two escapes.
  bool read_code_point(unsigned& code_point) {
    if (!read_hex4(code_point)) return false;
    if (code_point >= 0xDC00 && code_point <= 0xDFFF) return false;
    if (code_point < 0xD800 || code_point > 0xDBFF) return true;
    unsigned low;
    if (!consume('\\') || !consume('u') || !read_hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
    code_point = 0x10000 + ((code_point - 0xD800) << 10) + (low - 0xDC00);
    return true;
  }

  const char* cursor_;
  const char* end_;
};

}  // namespace

void append_escaped(std::string& out, std::string_view text) {
  // Copy runs of plain bytes in one go; most text has nothing to escape.
  size_t run_start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (!needs_escape(c)) continue;
    out.append(text.data() + run_start, i - run_start);
    run_start = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default: {
        const char escape[6] = {'\\', 'u', '0', '0', kHexDigits[c >> 4], kHexDigits[c & 0xF]};
        out.append(escape, sizeof escape);
      }
    }
  }
  out.append(text.data() + run_start, text.size() - run_start);
}

void Writer::separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (depth_ == 0) return;
  const std::uint64_t bit = std::uint64_t{1} << (depth_ - 1);
  if (written_ & bit) out_ += ',';
  written_ |= bit;
}

Writer& Writer::open(char bracket) {
  separate();
  out_ += bracket;
  assert(depth_ < 64 && "JSON nested deeper than the writer tracks");
  ++depth_;
  written_ &= ~(std::uint64_t{1} << (depth_ - 1));
  return *this;
}

Writer& Writer::close(char bracket) {
  out_ += bracket;
  --depth_;
  return *this;
}

Writer& Writer::key(std::string_view name) {
  separate();
  append_string(out_, name);
  out_ += ':';
  after_key_ = true;
  return *this;
}

std::string& Writer::member(std::string_view name) {
  key(name);
  after_key_ = false;  // the caller writes the value itself
  return out_;
}

Writer& Writer::string(std::string_view value) {
  separate();
  append_string(out_, value);
  return *this;
}

Writer& Writer::integer(std::uint64_t value) {
  separate();
  append_decimal(out_, value);
  return *this;
}

Writer& Writer::number(double value) {
  separate();
  if (!std::isfinite(value)) {
    out_ += "null";
    return *this;
  }
  char text[64];
  const double magnitude = std::fabs(value);
  const bool plain = magnitude == 0 || (magnitude >= 1e-6 && magnitude < 1e15);
  auto [end, ec] = plain ? std::to_chars(text, text + sizeof text, value, std::chars_format::fixed)
                         : std::to_chars(text, text + sizeof text, value);
  out_.append(text, ec == std::errc{} ? end : text);
  return *this;
}

Writer& Writer::boolean(bool value) {
  separate();
  out_ += value ? "true" : "false";
  return *this;
}

Writer& Writer::null() {
  separate();
  out_ += "null";
  return *this;
}

Writer& Writer::raw(std::string_view json_text) {
  separate();
  out_ += json_text;
  return *this;
}

MemberLookup find_string_member(std::string_view document, std::string_view name, std::string& value) {
  Reader reader(document);
  reader.skip_whitespace();
  if (!reader.consume('{')) return MemberLookup::malformed;
  MemberLookup result = MemberLookup::missing;
  reader.skip_whitespace();
  if (!reader.consume('}')) {
    std::string key;
    for (;;) {
      reader.skip_whitespace();
      key.clear();
      if (!reader.read_string(&key)) return MemberLookup::malformed;
      reader.skip_whitespace();
      if (!reader.consume(':')) return MemberLookup::malformed;
      reader.skip_whitespace();
      if (key == name && reader.next_is('"')) {
        value.clear();
        if (!reader.read_string(&value)) return MemberLookup::malformed;
        result = MemberLookup::found;
      } else {
        if (!reader.skip_value(1)) return MemberLookup::malformed;
        if (key == name) result = MemberLookup::not_a_string;
      }
      reader.skip_whitespace();
      if (reader.consume(',')) continue;
      if (reader.consume('}')) break;
      return MemberLookup::malformed;
    }
  }
  reader.skip_whitespace();
  return reader.at_end() ? result : MemberLookup::malformed;
}

}  // namespace cicada::common::json
