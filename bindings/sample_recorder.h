#pragma once
// Recording one request sample: into the thread's stats, then to the script's `request` and
// `request_failure` listeners when it has any. Shared by HTTP responses, catch_response
// outcomes and cicada.record().
#include <cstdint>
#include <string_view>

struct lua_State;

namespace cicada::common {
struct ThreadContext;
}
namespace cicada::vu {
struct Vu;
}

namespace cicada::bindings {

struct Sample {
  std::string_view method;
  std::string_view name;
  // As measured: from the request's start (or what cicada.record was given). In the open model
  // the recorder adds how late the iteration started, and keeps this as the service time.
  std::uint64_t response_us = 0;
  std::uint64_t length = 0;
  std::string_view error;  // empty: success
  int status = 0;
  std::string_view url;
  // The user the sample belongs to, when the recording call is not made by it (a request that
  // completes in a callback); otherwise the user running on L.
  const vu::Vu* user = nullptr;
};

// `response_index` / `request_index`: stack slots on L of the response object and the request
// table handed to listeners (0 when there is none). L must be a state that may run Lua now.
void record_sample(lua_State* L, common::ThreadContext* context, const Sample& sample, int response_index,
                   int request_index);

}  // namespace cicada::bindings
