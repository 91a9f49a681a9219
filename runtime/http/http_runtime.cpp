#include "runtime/http/http_runtime.h"

namespace cicada::http {

void HttpRuntime::take_pooled(ResponseData& into) {
  if (pool_.empty()) return;
  into.swap(pool_.back());
  pool_.pop_back();
  into.clear();
}

void HttpRuntime::give_back(ResponseData& from) {
  // Huge bodies are not worth keeping around; everything else is.
  if (pool_.size() >= kMaxPooled || from.body.capacity() > kMaxPooledBodyCapacity) return;
  pool_.emplace_back();
  pool_.back().swap(from);
}

}  // namespace cicada::http
