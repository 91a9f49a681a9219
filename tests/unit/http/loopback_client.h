#pragma once
// A libuv loop with the HTTP runtime, a scripted server on loopback and one client connection
// to it: what the connection's unit tests and the response fuzzer drive.
#include <uv.h>

#include <cstdint>
#include <optional>

#include "runtime/http/connection.h"
#include "runtime/http/http_runtime.h"
#include "scripted_server.h"

namespace cicada::testing {

struct LoopbackClient {
  uv_loop_t loop{};
  std::optional<http::HttpRuntime> runtime;
  std::optional<ScriptedServer> server;
  http::Connection* connection = nullptr;
  uv_timer_t guard{};  // a time limit for the caller's runs of the loop

  LoopbackClient() {
    uv_loop_init(&loop);
    runtime.emplace(&loop);
    server.emplace(&loop);
    http::Url endpoint;
    endpoint.scheme = "http";
    endpoint.host = "127.0.0.1";
    endpoint.port = static_cast<std::uint16_t>(server->port());
    endpoint.path = "/";
    connection = new http::Connection(&*runtime, endpoint);
    uv_timer_init(&loop, &guard);
  }

  // Closes everything and runs the loop until libuv is done; false when a handle stayed open.
  bool close() {
    connection->destroy();
    server->close();
    runtime->shutdown();
    uv_close(reinterpret_cast<uv_handle_t*>(&guard), nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
    return uv_loop_close(&loop) == 0;
  }
};

}  // namespace cicada::testing
