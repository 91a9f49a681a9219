// Content-Encoding decoding against data compressed by zlib itself: gzip, zlib-wrapped and raw
// deflate, fed whole and byte by byte; corrupt and truncated streams; the decoded-size bound;
// concatenated gzip members; trailing garbage; reuse of one decoder across responses.
#include <doctest/doctest.h>
#include <zlib.h>

#include <cstdint>
#include <string>

#include "runtime/http/content_decoder.h"

using cicada::http::ContentDecoder;
using Encoding = cicada::http::ContentDecoder::Encoding;
using Failure = cicada::http::ContentDecoder::Failure;

namespace {

constexpr int kGzipBits = MAX_WBITS + 16;
constexpr int kZlibBits = MAX_WBITS;
constexpr int kRawBits = -MAX_WBITS;
constexpr std::size_t kNoLimit = SIZE_MAX;

// Compresses with zlib: window_bits picks gzip, zlib or raw deflate framing.
std::string compress(const std::string& input, int window_bits, int level = Z_DEFAULT_COMPRESSION,
                     const std::string& dictionary = "") {
  z_stream z{};
  REQUIRE(deflateInit2(&z, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  if (!dictionary.empty())
    REQUIRE(deflateSetDictionary(&z, reinterpret_cast<const Bytef*>(dictionary.data()),
                                 static_cast<uInt>(dictionary.size())) == Z_OK);
  std::string out(deflateBound(&z, input.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  z.avail_in = static_cast<uInt>(input.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// Text that compresses well, followed by bytes that do not (a xorshift sequence).
std::string sample_body(std::size_t text_repeats = 2000, std::size_t noise_bytes = 50'000) {
  std::string body;
  for (std::size_t i = 0; i < text_repeats; ++i) body += "{\"id\": " + std::to_string(i) + ", \"name\": \"item\"},\n";
  std::uint32_t state = 2463534242u;
  for (std::size_t i = 0; i < noise_bytes; ++i) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    body.push_back(static_cast<char>(state & 0xff));
  }
  return body;
}

struct Decoded {
  bool fed = false;
  bool finished = false;
  std::string body;
};

// Runs one body through the decoder, in pieces of `piece` bytes (0 = all at once).
Decoded decode(ContentDecoder& decoder, Encoding encoding, const std::string& input, std::size_t piece = 0,
               std::size_t limit = kNoLimit) {
  Decoded result;
  decoder.begin(encoding);
  result.fed = true;
  if (piece == 0) piece = input.size();
  for (std::size_t at = 0; at < input.size() && result.fed; at += piece)
    result.fed = decoder.feed(input.data() + at, std::min(piece, input.size() - at), result.body, limit);
  result.finished = decoder.finish();
  return result;
}

Decoded decode(Encoding encoding, const std::string& input, std::size_t piece = 0, std::size_t limit = kNoLimit) {
  ContentDecoder decoder;
  return decode(decoder, encoding, input, piece, limit);
}

}  // namespace

TEST_CASE("Content-Encoding values") {
  CHECK(ContentDecoder::parse("gzip") == Encoding::Gzip);
  CHECK(ContentDecoder::parse("GZip") == Encoding::Gzip);
  CHECK(ContentDecoder::parse(" x-gzip\t") == Encoding::Gzip);
  CHECK(ContentDecoder::parse("deflate") == Encoding::Deflate);
  CHECK(ContentDecoder::parse("identity") == Encoding::Identity);
  CHECK(ContentDecoder::parse("") == Encoding::Identity);
  CHECK(ContentDecoder::parse(" , ") == Encoding::Identity);
  CHECK(ContentDecoder::parse("identity, gzip") == Encoding::Gzip);
  CHECK(ContentDecoder::parse("deflate, identity") == Encoding::Deflate);
  CHECK_FALSE(ContentDecoder::parse("br"));
  CHECK_FALSE(ContentDecoder::parse("zstd"));
  CHECK_FALSE(ContentDecoder::parse("compress"));
  CHECK_FALSE(ContentDecoder::parse("gzip, gzip"));
  CHECK_FALSE(ContentDecoder::parse("deflate, gzip"));
  CHECK_FALSE(ContentDecoder::parse("gzipped"));
  CHECK(ContentDecoder::name(Encoding::Gzip) == "gzip");
  CHECK(ContentDecoder::name(Encoding::Deflate) == "deflate");
  CHECK(ContentDecoder::name(Encoding::Identity) == "identity");
}

TEST_CASE("identity passes bytes through, within the bound") {
  ContentDecoder decoder;
  auto whole = decode(decoder, Encoding::Identity, "plain text", 3);
  CHECK(whole.fed);
  CHECK(whole.finished);
  CHECK(whole.body == "plain text");
  CHECK(decoder.decoded_size() == 10);

  auto bounded = decode(decoder, Encoding::Identity, "0123456789", 4, 6);
  CHECK_FALSE(bounded.fed);
  CHECK(bounded.body == "012345");
  CHECK(decoder.failure() == Failure::TooLarge);
  CHECK(decoder.error() == "body larger than 6 bytes");
}

TEST_CASE("gzip, whole and byte by byte") {
  const std::string body = sample_body();
  const std::string gz = compress(body, kGzipBits);
  REQUIRE(gz.size() < body.size());
  for (std::size_t piece : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{4096}}) {
    CAPTURE(piece);
    ContentDecoder decoder;
    auto result = decode(decoder, Encoding::Gzip, gz, piece);
    CHECK(result.fed);
    CHECK(result.finished);
    CHECK(result.body == body);
    CHECK(decoder.failure() == Failure::None);
    CHECK(decoder.error().empty());
    CHECK(decoder.decoded_size() == body.size());
  }
}

TEST_CASE("deflate: zlib-wrapped and raw, whole and byte by byte") {
  const std::string body = sample_body();
  for (int bits : {kZlibBits, kRawBits}) {
    for (int level : {Z_NO_COMPRESSION, Z_BEST_SPEED, Z_BEST_COMPRESSION}) {
      const std::string compressed = compress(body, bits, level);
      for (std::size_t piece : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{1000}}) {
        CAPTURE(bits);
        CAPTURE(level);
        CAPTURE(piece);
        auto result = decode(Encoding::Deflate, compressed, piece);
        CHECK(result.fed);
        CHECK(result.finished);
        CHECK(result.body == body);
      }
    }
  }
}

TEST_CASE("gzip also accepts a zlib stream, as curl does") {
  const std::string body = "labelled gzip, sent as zlib";
  auto result = decode(Encoding::Gzip, compress(body, kZlibBits));
  CHECK(result.finished);
  CHECK(result.body == body);
}

TEST_CASE("empty bodies decode to nothing, and empty compressed streams too") {
  for (Encoding encoding : {Encoding::Gzip, Encoding::Deflate, Encoding::Identity}) {
    ContentDecoder decoder;
    decoder.begin(encoding);
    std::string out;
    CHECK(decoder.feed("", 0, out, kNoLimit));
    CHECK(decoder.finish());
    CHECK(out.empty());
  }
  CHECK(decode(Encoding::Gzip, compress("", kGzipBits)).finished);
  CHECK(decode(Encoding::Deflate, compress("", kRawBits), 1).finished);
  CHECK(decode(Encoding::Deflate, compress("", kZlibBits), 1).finished);
}

TEST_CASE("data that is not gzip at all is corrupt") {
  ContentDecoder decoder;
  auto result = decode(decoder, Encoding::Gzip, "this is plain text, not gzip");
  CHECK_FALSE(result.fed);
  CHECK_FALSE(result.finished);
  CHECK(result.body.empty());
  CHECK(decoder.failure() == Failure::Corrupt);
  CHECK(decoder.error() == "corrupt data: incorrect header check");
}

TEST_CASE("a damaged gzip stream is corrupt, and stays failed") {
  const std::string body = sample_body();
  std::string gz = compress(body, kGzipBits);

  SUBCASE("a byte flipped inside the compressed blocks") {
    gz[gz.size() / 3] = static_cast<char>(gz[gz.size() / 3] ^ 0x55);
  }
  SUBCASE("a wrong CRC in the trailer") {
    gz[gz.size() - 8] = static_cast<char>(gz[gz.size() - 8] ^ 0x01);
  }
  SUBCASE("a wrong length in the trailer") {
    gz[gz.size() - 4] = static_cast<char>(gz[gz.size() - 4] ^ 0x01);
  }
  SUBCASE("an unknown compression method in the header") {
    gz[2] = 7;
  }
  ContentDecoder decoder;
  decoder.begin(Encoding::Gzip);
  std::string out;
  bool ok = true;
  for (std::size_t at = 0; at < gz.size() && ok; at += 100)
    ok = decoder.feed(gz.data() + at, std::min<std::size_t>(100, gz.size() - at), out, kNoLimit);
  CHECK_FALSE(ok);
  CHECK(decoder.failure() == Failure::Corrupt);
  CHECK(decoder.error().starts_with("corrupt data: "));
  CHECK(decoder.error().size() > std::string("corrupt data: ").size());
  CHECK_FALSE(decoder.feed("more", 4, out, kNoLimit));
  CHECK_FALSE(decoder.finish());
  CHECK(decoder.failure() == Failure::Corrupt);
}

TEST_CASE("the CRC and length checks say what they found") {
  std::string gz = compress("checked", kGzipBits);
  std::string bad_crc = gz;
  bad_crc[bad_crc.size() - 8] = static_cast<char>(bad_crc[bad_crc.size() - 8] ^ 0x01);
  ContentDecoder decoder;
  CHECK_FALSE(decode(decoder, Encoding::Gzip, bad_crc).fed);
  CHECK(decoder.error() == "corrupt data: incorrect data check");
  std::string bad_length = gz;
  bad_length[bad_length.size() - 1] = static_cast<char>(bad_length[bad_length.size() - 1] ^ 0x01);
  CHECK_FALSE(decode(decoder, Encoding::Gzip, bad_length).fed);
  CHECK(decoder.error() == "corrupt data: incorrect length check");
}

TEST_CASE("a damaged deflate stream is corrupt") {
  std::string raw = compress(sample_body(), kRawBits);
  raw[0] = static_cast<char>(0x07);  // BTYPE 11: a reserved block type
  ContentDecoder decoder;
  auto result = decode(decoder, Encoding::Deflate, raw, 1);
  CHECK_FALSE(result.fed);
  CHECK(decoder.failure() == Failure::Corrupt);
  CHECK(decoder.error() == "corrupt data: invalid block type");
}

TEST_CASE("a zlib stream that needs a preset dictionary is reported as such") {
  const std::string dictionary = "a dictionary the client cannot know";
  ContentDecoder decoder;
  CHECK_FALSE(decode(decoder, Encoding::Deflate, compress("needs a dictionary", kZlibBits, 6, dictionary)).fed);
  CHECK(decoder.failure() == Failure::Corrupt);
  CHECK(decoder.error() == "corrupt data: the stream asks for a preset dictionary");
}

TEST_CASE("a stream cut short is truncated at finish()") {
  const std::string body = sample_body();
  const std::string gz = compress(body, kGzipBits);
  const std::string raw = compress(body, kRawBits);
  struct Case {
    Encoding encoding;
    std::string input;
    std::string_view expected_error;
  };
  const Case cases[] = {
      {Encoding::Gzip, gz.substr(0, gz.size() - 4), "truncated: the body ended before the end of the compressed stream"},
      {Encoding::Gzip, gz.substr(0, gz.size() / 2), "truncated: the body ended before the end of the compressed stream"},
      {Encoding::Gzip, gz.substr(0, 5), "truncated: the body ended before the end of the compressed stream"},
      {Encoding::Deflate, raw.substr(0, raw.size() - 1), "truncated: the body ended before the end of the compressed stream"},
      {Encoding::Deflate, raw.substr(0, 1), "truncated: the body ended inside the stream header"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.input.size());
    for (std::size_t piece : {std::size_t{0}, std::size_t{1}}) {
      ContentDecoder decoder;
      auto result = decode(decoder, c.encoding, c.input, piece);
      CHECK(result.fed);  // nothing wrong with what came
      CHECK_FALSE(result.finished);
      CHECK(decoder.failure() == Failure::Truncated);
      CHECK(decoder.error() == c.expected_error);
    }
  }
}

TEST_CASE("the decoded size is bounded: decompression bombs stop at the bound") {
  const std::string zeros(64 << 20, '\0');
  const std::string bomb = compress(zeros, kGzipBits, Z_BEST_COMPRESSION);
  REQUIRE(bomb.size() < 128 * 1024);
  constexpr std::size_t kLimit = 1 << 20;
  for (std::size_t piece : {std::size_t{0}, std::size_t{512}}) {
    ContentDecoder decoder;
    auto result = decode(decoder, Encoding::Gzip, bomb, piece, kLimit);
    CHECK_FALSE(result.fed);
    CHECK_FALSE(result.finished);
    CHECK(result.body.size() == kLimit);
    CHECK(decoder.decoded_size() == kLimit);
    CHECK(decoder.failure() == Failure::TooLarge);
    CHECK(decoder.error() == "decoded body larger than 1048576 bytes");
  }
}

TEST_CASE("a body of exactly the bound is fine; one byte more is not") {
  const std::string body = sample_body(100, 1000);
  const std::string gz = compress(body, kGzipBits);
  for (std::size_t piece : {std::size_t{0}, std::size_t{1}}) {
    auto exact = decode(Encoding::Gzip, gz, piece, body.size());
    CHECK(exact.fed);
    CHECK(exact.finished);
    CHECK(exact.body == body);
    auto over = decode(Encoding::Gzip, gz, piece, body.size() - 1);
    CHECK_FALSE(over.fed);
    CHECK(over.body == body.substr(0, body.size() - 1));
  }
}

TEST_CASE("the bound counts every decoded byte, even those the caller already threw away") {
  const std::string gz = compress(std::string(100'000, 'x'), kGzipBits);
  ContentDecoder decoder;
  decoder.begin(Encoding::Gzip);
  std::string out;
  bool ok = true;
  for (std::size_t at = 0; at < gz.size() && ok; at += 10) {
    out.clear();  // a caller that only counts the body
    ok = decoder.feed(gz.data() + at, std::min<std::size_t>(10, gz.size() - at), out, 50'000);
  }
  CHECK_FALSE(ok);
  CHECK(decoder.failure() == Failure::TooLarge);
  CHECK(decoder.decoded_size() == 50'000);
}

TEST_CASE("concatenated gzip members decode one after the other") {
  const std::string first = sample_body(300, 5000);
  const std::string second = "and a second member";
  const std::string third = sample_body(10, 0);
  const std::string members = compress(first, kGzipBits) + compress(second, kGzipBits) + compress("", kGzipBits) +
                              compress(third, kGzipBits);
  for (std::size_t piece : {std::size_t{0}, std::size_t{1}, std::size_t{333}}) {
    CAPTURE(piece);
    auto result = decode(Encoding::Gzip, members, piece);
    CHECK(result.fed);
    CHECK(result.finished);
    CHECK(result.body == first + second + third);
  }
}

TEST_CASE("garbage after a complete stream is ignored") {
  const std::string body = "the real body";
  const std::string garbage[] = {std::string(512, '\0'), "\r\n", "trailing text that is no gzip member",
                                 std::string("\x1f\x8b", 2)};
  for (const std::string& tail : garbage) {
    for (std::size_t piece : {std::size_t{0}, std::size_t{1}}) {
      auto gzip = decode(Encoding::Gzip, compress(body, kGzipBits) + tail, piece);
      CHECK(gzip.fed);
      CHECK(gzip.finished);
      CHECK(gzip.body == body);
      auto deflate = decode(Encoding::Deflate, compress(body, kZlibBits) + tail, piece);
      CHECK(deflate.fed);
      CHECK(deflate.finished);
      CHECK(deflate.body == body);
    }
  }
}

TEST_CASE("a second gzip member that decodes something and then breaks off is truncated") {
  const std::string second = compress(sample_body(500, 0), kGzipBits);
  const std::string input = compress("first", kGzipBits) + second.substr(0, second.size() / 2);
  ContentDecoder decoder;
  auto result = decode(decoder, Encoding::Gzip, input);
  CHECK(result.fed);
  CHECK_FALSE(result.finished);
  CHECK(decoder.failure() == Failure::Truncated);
  CHECK(result.body.starts_with("first{\"id\": 0"));
}

TEST_CASE("one decoder serves response after response, whatever came before") {
  ContentDecoder decoder;
  const std::string body = sample_body(200, 2000);
  const std::string gz = compress(body, kGzipBits);
  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    CHECK(decode(decoder, Encoding::Gzip, gz, 1000).body == body);
    CHECK(decode(decoder, Encoding::Deflate, compress(body, kRawBits)).body == body);
    CHECK(decode(decoder, Encoding::Deflate, compress(body, kZlibBits), 1).body == body);
    CHECK(decode(decoder, Encoding::Identity, body).body == body);
    CHECK_FALSE(decode(decoder, Encoding::Gzip, "broken").fed);
    CHECK_FALSE(decode(decoder, Encoding::Gzip, gz.substr(0, 100)).finished);
    CHECK_FALSE(decode(decoder, Encoding::Gzip, gz, 0, 10).fed);
    auto after_failures = decode(decoder, Encoding::Gzip, gz);
    CHECK(after_failures.finished);
    CHECK(after_failures.body == body);
    CHECK(decoder.failure() == Failure::None);
    CHECK(decoder.error().empty());
  }
}
