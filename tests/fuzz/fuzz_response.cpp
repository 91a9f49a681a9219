// libFuzzer target: the HTTP client's response path (runtime/http/connection.cpp): llhttp's
// response parser with cicada's callbacks, chunked and close-delimited framing, interim 1xx
// responses, gzip/deflate decoding with the body limits, keep-alive decisions. Each input is
// what a server sends in answer to one GET, over a real loopback socket (the scripted server
// of the unit tests), which closes the connection after sending it.
#include <uv.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "tests/unit/http/loopback_client.h"

namespace {

using namespace cicada;

struct Rig : testing::LoopbackClient {
  bool done = false;

  Rig() { guard.data = this; }

  void exchange(std::string reply) {
    server->push({std::move(reply), /*close_after=*/true});
    connection->request_bytes() = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    http::Connection::Exchange ex;
    ex.method = "GET";
    ex.limits.timeout_s = 2;
    ex.limits.max_body = 1 << 20;  // small, so that the limit is reached by inputs too
    ex.waiter = this;
    ex.on_complete = [](void* waiter, http::ResponseData& response) {
      auto* self = static_cast<Rig*>(waiter);
      // Read everything the response offers, as the bindings do.
      for (const auto& header : response.headers) {
        volatile std::size_t sink = response.header_name(header).size() + response.header_value(header).size();
        (void)sink;
      }
      if (response.status < 0 || response.status > 999) std::abort();
      if (!response.error.empty() && response.status >= 200 && response.status < 400 && response.body.size() > (1u << 20))
        std::abort();
      self->done = true;
      uv_stop(&self->loop);
    };
    done = false;
    connection->start(ex);
    // The exchange ends by itself (the server closes); the guard only protects the fuzzer.
    uv_timer_start(&guard, [](uv_timer_t* t) { uv_stop(&static_cast<Rig*>(t->data)->loop); }, 5000, 0);
    while (!done) {
      uv_run(&loop, UV_RUN_DEFAULT);
      if (!done && !uv_is_active(reinterpret_cast<uv_handle_t*>(&guard))) std::abort();  // hung: a bug
    }
    uv_timer_stop(&guard);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Rig* rig = new Rig;  // one loop and server for the whole run
  rig->exchange(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
