#include <cmath>
#include <doctest/doctest.h>
#include <string>

#include "runtime/common/json.h"

using namespace cicada::common;
using json::MemberLookup;

TEST_CASE("escaping keeps UTF-8 and escapes what JSON requires") {
  std::string out;
  json::append_escaped(out, std::string("a\"b\\c\n\r\t\b\f\x01\x1f\x7f \xE2\x98\x83", 17));
  CHECK(out == "a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\x7f \xE2\x98\x83");
  out.clear();
  json::append_string(out, std::string("nul\0", 4));
  CHECK(out == "\"nul\\u0000\"");
}

TEST_CASE("Writer places commas and escapes names and values") {
  std::string out = "prefix:";
  json::Writer(out).begin_object().field("name", "a\"b").field("id", 42).field("ok", true).field("no", false).end_object();
  CHECK(out == R"(prefix:{"name":"a\"b","id":42,"ok":true,"no":false})");

  out.clear();
  json::Writer(out).begin_object().end_object();
  CHECK(out == "{}");

  out.clear();
  json::Writer object(out);
  object.begin_object();
  object.member("list") += "[1,2]";
  object.field("k\ney", "v");
  object.end_object();
  CHECK(out == R"({"list":[1,2],"k\ney":"v"})");
}

TEST_CASE("find_string_member decodes the member and validates the whole document") {
  std::string value;
  CHECK(json::find_string_member(R"({"user":"demo"})", "user", value) == MemberLookup::found);
  CHECK(value == "demo");
  CHECK(json::find_string_member(R"( { "x" : [1, {"user": 2}], "user" : "a\"\u00e9\ud83d\ude00\/" } )", "user",
                                 value) == MemberLookup::found);
  CHECK(value == "a\"\xC3\xA9\xF0\x9F\x98\x80/");
  // The last of a repeated name counts.
  CHECK(json::find_string_member(R"({"user":"one","user":"two"})", "user", value) == MemberLookup::found);
  CHECK(value == "two");
  CHECK(json::find_string_member(R"({"user":"one","user":2})", "user", value) == MemberLookup::not_a_string);

  CHECK(json::find_string_member(R"({})", "user", value) == MemberLookup::missing);
  CHECK(json::find_string_member(R"({"name":"x","n":-1.5e3,"t":true,"z":null})", "user", value) ==
        MemberLookup::missing);
  CHECK(json::find_string_member(R"({"user":null})", "user", value) == MemberLookup::not_a_string);
  CHECK(json::find_string_member(R"({"user":["a"]})", "user", value) == MemberLookup::not_a_string);

  for (const char* malformed : {"", "[]", "\"user\"", "{", R"({"user":"a"} x)", R"({"user":"a",})", R"({"user" "a"})",
                                R"({'user':'a'})", R"({"user":"\ud800"})", R"({"user":"\x"})", R"({"n":01})",
                                R"({"n":1.})", "{\"user\":\"tab\there\"}"}) {
    INFO(malformed);
    CHECK(json::find_string_member(malformed, "user", value) == MemberLookup::malformed);
  }
}

TEST_CASE("deep nesting is refused, not recursed into without end") {
  std::string value;
  const std::string shallow = R"({"a":)" + std::string(60, '[') + std::string(60, ']') + "}";
  CHECK(json::find_string_member(shallow, "user", value) == MemberLookup::missing);
  const std::string deep = R"({"a":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  CHECK(json::find_string_member(deep, "user", value) == MemberLookup::malformed);
}

TEST_CASE("Writer nests containers, writes numbers exactly and null for what JSON cannot hold") {
  std::string out;
  json::Writer writer(out);
  writer.begin_object().key("a").begin_array().integer(1).begin_object().end_object().begin_array().end_array();
  writer.number(0.25).number(100000).number(1e20).number(std::nan("")).null().end_array();
  writer.key("b").raw("[true]").field("c", 2).end_object();
  CHECK(out == R"({"a":[1,{},[],0.25,100000,1e+20,null,null],"b":[true],"c":2})");
}

