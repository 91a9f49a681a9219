#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "runtime/dist/zmq_channel.h"

using namespace cicada;

// A Locust master's side in miniature: a ROUTER on a loopback port answers each message.
TEST_CASE("a DEALER on the loop exchanges messages with a ROUTER, in both directions") {
  zmq::context_t context(1);
  zmq::socket_t router(context, zmq::socket_type::router);
  router.set(zmq::sockopt::linger, 0);
  router.set(zmq::sockopt::rcvtimeo, 5000);
  router.bind("tcp://127.0.0.1:*");
  const std::string endpoint = router.get(zmq::sockopt::last_endpoint);

  uv_loop_t loop;
  uv_loop_init(&loop);
  std::vector<std::string> received;
  dist::ZmqDealer dealer(&loop, [&](std::string bytes) {
    received.push_back(std::move(bytes));
    if (received.size() == 3) dealer.close();
  });
  std::string error;
  REQUIRE(dealer.connect(endpoint, "test-host_00ff", &error));
  REQUIRE(dealer.send("client_ready"));

  zmq::message_t identity, payload;
  REQUIRE(router.recv(identity));
  REQUIRE(router.recv(payload));
  CHECK(identity.to_string() == "test-host_00ff");
  CHECK(payload.to_string() == "client_ready");
  // Three at once: every one must come out of a single edge of ZeroMQ's descriptor.
  for (const char* answer : {"ack", "spawn", "stop"}) {
    router.send(zmq::buffer(identity.to_string()), zmq::send_flags::sndmore);
    router.send(zmq::buffer(std::string(answer)));
  }
  uv_timer_t give_up;
  uv_timer_init(&loop, &give_up);
  uv_timer_start(&give_up, [](uv_timer_t* t) { uv_stop(t->loop); }, 10'000, 0);
  uv_unref(reinterpret_cast<uv_handle_t*>(&give_up));
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(received == std::vector<std::string>{"ack", "spawn", "stop"});
  uv_close(reinterpret_cast<uv_handle_t*>(&give_up), nullptr);
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}
