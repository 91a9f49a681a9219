#pragma once
// Where a Lua state keeps its thread's context (common::ThreadContext): the bindings find their
// loop, scheduler, stats and HTTP runtime through it.
struct lua_State;

namespace cicada::common {
struct ThreadContext;
}

namespace cicada::script {

void install_thread_context(lua_State* L, common::ThreadContext* context);
common::ThreadContext* thread_context_of(lua_State* L);

}  // namespace cicada::script
