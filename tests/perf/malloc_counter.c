/* An LD_PRELOAD library that counts heap allocations (malloc, calloc, realloc and the aligned
 * forms, and C++'s operator new) in every thread, and writes the total to the
 * file named by MALLOC_COUNTER_OUT when the process exits. Used to check that requests in
 * steady state allocate nothing (tests/integration/test_allocations.py).
 *
 * Each call goes on to the next allocator in the process (dlsym(RTLD_NEXT)): the binary's own
 * (jemalloc in release builds) or glibc's. While those are being looked up, the few bytes dlsym
 * itself may ask for come from a small static buffer, which free() then ignores. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

static atomic_ulong allocations;

/* Set while operator new runs: glibc's operator new calls malloc, which must not count the
 * same allocation a second time (jemalloc answers operator new itself). initial-exec: reading
 * it must not allocate. */
static __thread __attribute__((tls_model("initial-exec"))) int inside_operator_new;

static void count_allocation(void) {
  if (!inside_operator_new) atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
}

static void* (*next_malloc)(size_t);
static void* (*next_calloc)(size_t, size_t);
static void* (*next_realloc)(void*, size_t);
static void (*next_free)(void*);
static void* (*next_memalign)(size_t, size_t);

static _Alignas(16) char bootstrap[4096];
static size_t bootstrap_used;
static int resolving;

static int in_bootstrap(const void* pointer) {
  return (const char*)pointer >= bootstrap && (const char*)pointer < bootstrap + sizeof bootstrap;
}

static void* bootstrap_alloc(size_t size) {
  size = (size + 15) & ~(size_t)15;
  if (bootstrap_used + size > sizeof bootstrap) return NULL;
  void* pointer = bootstrap + bootstrap_used;
  bootstrap_used += size;
  return pointer;
}

static void resolve(void) {
  if (next_malloc || resolving) return;
  resolving = 1;
  next_malloc = (void* (*)(size_t))dlsym(RTLD_NEXT, "malloc");
  next_calloc = (void* (*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
  next_realloc = (void* (*)(void*, size_t))dlsym(RTLD_NEXT, "realloc");
  next_free = (void (*)(void*))dlsym(RTLD_NEXT, "free");
  next_memalign = (void* (*)(size_t, size_t))dlsym(RTLD_NEXT, "memalign");
  resolving = 0;
}

void* malloc(size_t size) {
  resolve();
  if (!next_malloc) return bootstrap_alloc(size);
  count_allocation();
  return next_malloc(size);
}

void* calloc(size_t count, size_t size) {
  resolve();
  if (!next_calloc) return bootstrap_alloc(count * size); /* static memory is zeroed */
  count_allocation();
  return next_calloc(count, size);
}

void* realloc(void* pointer, size_t size) {
  resolve();
  count_allocation();
  if (in_bootstrap(pointer)) {
    void* moved = next_malloc(size);
    if (moved) {
      size_t available = (size_t)(bootstrap + sizeof bootstrap - (char*)pointer);
      for (size_t i = 0; i < size && i < available; ++i) ((char*)moved)[i] = ((char*)pointer)[i];
    }
    return moved;
  }
  return next_realloc(pointer, size);
}

void free(void* pointer) {
  if (!pointer || in_bootstrap(pointer)) return;
  resolve();
  next_free(pointer);
}

void* memalign(size_t alignment, size_t size) {
  resolve();
  count_allocation();
  return next_memalign(alignment, size);
}

void* aligned_alloc(size_t alignment, size_t size) { return memalign(alignment, size); }

int posix_memalign(void** out, size_t alignment, size_t size) {
  void* pointer = memalign(alignment, size);
  if (!pointer) return 12; /* ENOMEM */
  *out = pointer;
  return 0;
}

/* C++'s operator new: with glibc's allocator it calls malloc, but an allocator that brings its
 * own (jemalloc does) answers it directly, so it is counted here, once. */
#define COUNT_NEW(symbol, params, args)                                        \
  void* symbol params {                                                        \
    static void* (*next) params;                                               \
    if (!next) next = (void* (*) params)dlsym(RTLD_NEXT, #symbol);             \
    count_allocation();                                                                   \
    ++inside_operator_new;                                                     \
    void* pointer = next args;                                                 \
    --inside_operator_new;                                                     \
    return pointer;                                                            \
  }
COUNT_NEW(_Znwm, (size_t size), (size))                        /* new(size_t) */
COUNT_NEW(_Znam, (size_t size), (size))                        /* new[](size_t) */
COUNT_NEW(_ZnwmRKSt9nothrow_t, (size_t size, const void* tag), (size, tag))
COUNT_NEW(_ZnamRKSt9nothrow_t, (size_t size, const void* tag), (size, tag))
COUNT_NEW(_ZnwmSt11align_val_t, (size_t size, size_t alignment), (size, alignment))
COUNT_NEW(_ZnamSt11align_val_t, (size_t size, size_t alignment), (size, alignment))

__attribute__((destructor)) static void report(void) {
  const char* path = getenv("MALLOC_COUNTER_OUT");
  if (!path) return;
  FILE* out = fopen(path, "w");
  if (!out) return;
  fprintf(out, "%lu\n", atomic_load(&allocations));
  fclose(out);
}
