#pragma once
// Streaming decoder for a response's Content-Encoding: gzip, deflate or identity (zlib).
//
//   ContentDecoder decoder;                   // one per connection; reused for every response
//   auto encoding = ContentDecoder::parse(header_value);  // nullopt: an encoding we cannot decode
//   decoder.begin(*encoding);
//   decoder.feed(data, size, body, limit);    // per chunk of body bytes; false + error() on failure
//   decoder.finish();                         // at the end of the body; false when it stopped early
//
// - gzip: also accepts a zlib stream (as curl does); concatenated gzip members are decoded one
//   after the other (RFC 1952 2.2, what gzip(1) writes with `cat a.gz b.gz`). Bytes after a
//   complete member that do not start a valid one are ignored, as urllib3 and browsers do
//   with trailing garbage, unless they decoded to something and then broke off.
// - deflate: RFC 9110 means a zlib stream, but some servers send raw deflate; the first two
//   bytes tell which (a zlib header is a multiple of 31 with method 8), as browsers decide.
//   Bytes after the end of the stream are ignored.
// - The decoded size is bounded per response (`max_total_output`), against decompression bombs;
//   when the bound is passed, `out` holds exactly the bound's worth of bytes and failure() says
//   TooLarge, so the caller can report it as an oversized body rather than a broken one.
// - An empty body decodes to nothing without error, whatever the encoding (a 204 or a HEAD
//   response can carry Content-Encoding without a body).
//
// The zlib state is allocated on the first compressed response and reset (not reallocated)
// for the next ones.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace cicada::http {

class ContentDecoder {
 public:
  enum class Encoding { Identity, Gzip, Deflate };
  // Corrupt also covers zlib failing to allocate its state, which leaves nothing to decode with.
  enum class Failure { None, Corrupt, Truncated, TooLarge };

  // The Content-Encoding header's value, case-insensitive: "gzip"/"x-gzip", "deflate",
  // "identity", or empty (identity). A list ("identity, gzip") is accepted when at most one
  // entry is not identity. Anything else (br, zstd, compress, gzip applied twice) is nullopt.
  static std::optional<Encoding> parse(std::string_view content_encoding);
  static std::string_view name(Encoding encoding);  // "identity", "gzip", "deflate"

  ContentDecoder() = default;
  ~ContentDecoder() = default;
  ContentDecoder(const ContentDecoder&) = delete;
  ContentDecoder& operator=(const ContentDecoder&) = delete;

  // Starts a new body. Forgets the previous one, its failure included.
  void begin(Encoding encoding);
  // Decodes `size` bytes of body and appends the result to `out`. `max_total_output` bounds the
  // bytes decoded since begin(), whatever the caller did with `out` meanwhile (it may clear it
  // to only count them). False on corrupt data or when the bound is passed; then error() says
  // why, and every later feed() returns false too.
  bool feed(const char* data, std::size_t size, std::string& out, std::size_t max_total_output);
  // The body is over. False (and error()) when the compressed stream was cut short, or when a
  // feed() had failed.
  bool finish();

  Encoding encoding() const { return encoding_; }
  Failure failure() const { return failure_; }
  // Why it failed, for a report: "corrupt data: incorrect header check", "truncated: ...",
  // "decoded body larger than 16777216 bytes". Empty while all is well.
  const std::string& error() const { return error_; }
  std::uint64_t decoded_size() const { return decoded_; }

 private:
  enum class Stage {
    Sniffing,     // deflate: waiting for the two bytes that tell zlib from raw deflate
    Streaming,    // inside a compressed stream (or identity)
    AfterStream,  // a stream ended; for gzip, another member may follow
    Trailing,     // gzip: trailing bytes that have produced no output since the last member
    Ignoring,     // the rest of the body is ignored (garbage after the end)
    Failed,
  };

  struct Zlib;  // the z_stream and an output buffer, allocated together on first use
  struct ZlibDeleter {
    void operator()(Zlib* zlib) const;
  };

  bool inflate_from(const unsigned char* data, std::size_t size, std::string& out, std::size_t max_total_output);
  bool start_stream(int window_bits);
  bool fail(Failure failure, std::string_view why);

  Encoding encoding_ = Encoding::Identity;
  Stage stage_ = Stage::Streaming;
  Failure failure_ = Failure::None;
  std::string error_;
  std::uint64_t decoded_ = 0;
  bool input_seen_ = false;
  unsigned char sniffed_[2] = {};
  std::size_t sniffed_size_ = 0;
  std::unique_ptr<Zlib, ZlibDeleter> zlib_;  // kept for the next responses
};

}  // namespace cicada::http
