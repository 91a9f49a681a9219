#include "runtime/http/http_runtime.h"

namespace cicada::http {

std::unique_ptr<ResponseData> HttpRuntime::take_response() {
  if (spare_responses_.empty()) return std::make_unique<ResponseData>();
  std::unique_ptr<ResponseData> response = std::move(spare_responses_.back());
  spare_responses_.pop_back();
  return response;
}

void HttpRuntime::give_back(std::unique_ptr<ResponseData> response) {
  // Huge bodies are not worth keeping around; everything else is.
  if (spare_responses_.size() >= kMaxPooled || response->body.capacity() > kMaxPooledBodyCapacity) return;
  response->clear();
  spare_responses_.push_back(std::move(response));
}

}  // namespace cicada::http
