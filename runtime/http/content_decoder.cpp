#include "runtime/http/content_decoder.h"

#include <strings.h>
#include <zlib.h>

#include <algorithm>
#include <limits>

#include "runtime/common/text.h"

namespace cicada::http {

namespace {

// Output is inflated into a fixed buffer and appended from there, so that a small input never
// costs more than what it decodes to.
constexpr std::size_t kOutputStep = 32 * 1024;
// zlib counts in uInt; larger inputs are fed in slices.
constexpr std::size_t kMaxInflateInput = std::numeric_limits<uInt>::max();

constexpr int kZlibWindowBits = MAX_WBITS;           // zlib header and trailer
constexpr int kRawDeflateWindowBits = -MAX_WBITS;    // no header, no trailer
constexpr int kGzipOrZlibWindowBits = MAX_WBITS + 32;  // either header, detected by zlib

bool equals_ci(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// RFC 1950 2.2: compression method 8 (deflate), a window of at most 32 KiB, and a check value
// making the first two bytes a multiple of 31. Raw deflate rarely starts like that.
bool is_zlib_header(unsigned char cmf, unsigned char flg) {
  return (cmf & 0x0f) == Z_DEFLATED && (cmf >> 4) <= 7 && ((cmf << 8) | flg) % 31 == 0;
}

}  // namespace

struct ContentDecoder::Zlib {
  z_stream stream{};
  unsigned char output[kOutputStep];
};

void ContentDecoder::ZlibDeleter::operator()(Zlib* zlib) const {
  inflateEnd(&zlib->stream);
  delete zlib;
}

std::optional<ContentDecoder::Encoding> ContentDecoder::parse(std::string_view content_encoding) {
  Encoding result = Encoding::Identity;
  while (!content_encoding.empty()) {
    const std::size_t comma = content_encoding.find(',');
    const std::string_view entry = common::trim_whitespace(content_encoding.substr(0, comma));
    content_encoding = comma == std::string_view::npos ? std::string_view{} : content_encoding.substr(comma + 1);
    if (entry.empty() || equals_ci(entry, "identity")) continue;
    Encoding coding;
    if (equals_ci(entry, "gzip") || equals_ci(entry, "x-gzip")) {
      coding = Encoding::Gzip;
    } else if (equals_ci(entry, "deflate")) {
      coding = Encoding::Deflate;
    } else {
      return std::nullopt;
    }
    if (result != Encoding::Identity) return std::nullopt;  // two codings stacked: not supported
    result = coding;
  }
  return result;
}

std::string_view ContentDecoder::name(Encoding encoding) {
  switch (encoding) {
    case Encoding::Gzip: return "gzip";
    case Encoding::Deflate: return "deflate";
    case Encoding::Identity: break;
  }
  return "identity";
}

void ContentDecoder::begin(Encoding encoding) {
  encoding_ = encoding;
  failure_ = Failure::None;
  error_.clear();
  decoded_ = 0;
  input_seen_ = false;
  sniffed_size_ = 0;
  stage_ = Stage::Streaming;
  if (encoding == Encoding::Gzip) {
    start_stream(kGzipOrZlibWindowBits);
  } else if (encoding == Encoding::Deflate) {
    stage_ = Stage::Sniffing;  // the stream starts once the first two bytes are known
  }
}

bool ContentDecoder::start_stream(int window_bits) {
  if (!zlib_) {
    std::unique_ptr<Zlib, ZlibDeleter> fresh(new Zlib);
    if (inflateInit2(&fresh->stream, window_bits) != Z_OK) {
      // inflateEnd is harmless on a stream whose initialisation failed.
      return fail(Failure::Corrupt, "zlib could not allocate its state");
    }
    zlib_ = std::move(fresh);
    return true;
  }
  // Same window size every time, so zlib keeps its window allocation.
  if (inflateReset2(&zlib_->stream, window_bits) != Z_OK) return fail(Failure::Corrupt, "zlib could not reset");
  return true;
}

bool ContentDecoder::feed(const char* data, std::size_t size, std::string& out, std::size_t max_total_output) {
  if (stage_ == Stage::Failed) return false;
  if (size == 0) return true;
  input_seen_ = true;
  if (encoding_ == Encoding::Identity) {
    const std::uint64_t allowance = max_total_output > decoded_ ? max_total_output - decoded_ : 0;
    if (size > allowance) {
      out.append(data, allowance);
      decoded_ += allowance;
      return fail(Failure::TooLarge, "body larger than " + std::to_string(max_total_output) + " bytes");
    }
    out.append(data, size);
    decoded_ += size;
    return true;
  }

  const auto* bytes = reinterpret_cast<const unsigned char*>(data);
  if (stage_ == Stage::Sniffing) {
    while (sniffed_size_ < sizeof sniffed_ && size > 0) {
      sniffed_[sniffed_size_++] = *bytes++;
      --size;
    }
    if (sniffed_size_ < sizeof sniffed_) return true;
    if (!start_stream(is_zlib_header(sniffed_[0], sniffed_[1]) ? kZlibWindowBits : kRawDeflateWindowBits)) return false;
    stage_ = Stage::Streaming;
    if (!inflate_from(sniffed_, sizeof sniffed_, out, max_total_output)) return false;
  }
  return inflate_from(bytes, size, out, max_total_output);
}

bool ContentDecoder::inflate_from(const unsigned char* data, std::size_t size, std::string& out,
                                  std::size_t max_total_output) {
  z_stream& z = zlib_->stream;
  for (;;) {
    if (stage_ == Stage::Ignoring) return true;
    if (stage_ == Stage::AfterStream) {
      if (size == 0) return true;
      if (encoding_ != Encoding::Gzip) {
        stage_ = Stage::Ignoring;  // nothing can follow a zlib or raw deflate stream
        return true;
      }
      inflateReset(&z);  // perhaps another gzip member: Trailing until it decodes something
      stage_ = Stage::Trailing;
    }

    const std::size_t slice = std::min(size, kMaxInflateInput);
    // One byte more room than allowed is how an overflow shows.
    const std::uint64_t allowance = max_total_output > decoded_ ? max_total_output - decoded_ : 0;
    const std::size_t room = allowance >= kOutputStep ? kOutputStep : static_cast<std::size_t>(allowance) + 1;
    z.next_in = const_cast<Bytef*>(data);
    z.avail_in = static_cast<uInt>(slice);
    z.next_out = zlib_->output;
    z.avail_out = static_cast<uInt>(room);
    const int rc = inflate(&z, Z_NO_FLUSH);
    const std::size_t consumed = slice - z.avail_in;
    const std::size_t produced = room - z.avail_out;
    data += consumed;
    size -= consumed;

    if (produced > 0) {
      if (stage_ == Stage::Trailing) stage_ = Stage::Streaming;  // it was another gzip member
      if (produced > allowance) {
        out.append(reinterpret_cast<const char*>(zlib_->output), static_cast<std::size_t>(allowance));
        decoded_ += allowance;
        return fail(Failure::TooLarge, "decoded body larger than " + std::to_string(max_total_output) + " bytes");
      }
      out.append(reinterpret_cast<const char*>(zlib_->output), produced);
      decoded_ += produced;
    }

    switch (rc) {
      case Z_OK:
        break;
      case Z_STREAM_END:
        stage_ = Stage::AfterStream;
        break;
      case Z_BUF_ERROR:
        return true;  // no input left to make progress with; the next feed() goes on
      case Z_DATA_ERROR:
        if (stage_ == Stage::Trailing) {
          stage_ = Stage::Ignoring;  // garbage after a complete gzip member
          return true;
        }
        return fail(Failure::Corrupt, std::string("corrupt data: ") + (z.msg ? z.msg : "invalid stream"));
      case Z_NEED_DICT:
        return fail(Failure::Corrupt, "corrupt data: the stream asks for a preset dictionary");
      case Z_MEM_ERROR:
        return fail(Failure::Corrupt, "zlib ran out of memory");
      default:
        return fail(Failure::Corrupt, "zlib error " + std::to_string(rc));
    }
    // All input taken and the output buffer not filled: zlib holds nothing more for now.
    if (size == 0 && z.avail_out != 0) return true;
  }
}

bool ContentDecoder::finish() {
  if (stage_ == Stage::Failed) return false;
  if (encoding_ == Encoding::Identity || !input_seen_) return true;
  switch (stage_) {
    case Stage::Sniffing:
      return fail(Failure::Truncated, "truncated: the body ended inside the stream header");
    case Stage::Streaming:
      return fail(Failure::Truncated, "truncated: the body ended before the end of the compressed stream");
    case Stage::AfterStream:
    case Stage::Trailing:
    case Stage::Ignoring:
    case Stage::Failed:
      break;
  }
  return true;
}

bool ContentDecoder::fail(Failure failure, std::string_view why) {
  stage_ = Stage::Failed;
  failure_ = failure;
  error_.assign(why);
  return false;
}

}  // namespace cicada::http
