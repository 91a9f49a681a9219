#include "runtime/http/http_runtime.h"

namespace cicada::http {

void HttpRuntime::take_pooled(ResponseData& into) {
  if (spare_responses_.empty()) return;
  into.swap(spare_responses_.back());
  spare_responses_.pop_back();
  into.clear();
}

void HttpRuntime::give_back(ResponseData& from) {
  // Huge bodies are not worth keeping around; everything else is.
  if (spare_responses_.size() >= kMaxPooled || from.body.capacity() > kMaxPooledBodyCapacity) return;
  spare_responses_.emplace_back();
  spare_responses_.back().swap(from);
}

}  // namespace cicada::http
