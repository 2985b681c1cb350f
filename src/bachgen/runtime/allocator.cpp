#include "bachgen/runtime/allocator.h"

#include <cstdlib>
#include <cstring>
#include <mutex>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace bachgen::runtime {

namespace {

AllocatorTuning apply() {
  AllocatorTuning t;
  const char* choice = std::getenv("BACHGEN_MALLOC");
  if (choice != nullptr && std::strcmp(choice, "default") == 0) {
    t.reason = "BACHGEN_MALLOC=default";
    return t;
  }
  for (const char* name : {"GLIBC_TUNABLES", "MALLOC_MMAP_MAX_", "MALLOC_MMAP_THRESHOLD_",
                           "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_"}) {
    if (std::getenv(name) != nullptr) {
      t.reason = std::string(name) + " is set";
      return t;
    }
  }
#if defined(__GLIBC__)
  // mallopt returns 1 on success. Under the sanitizers it is intercepted and may do nothing.
  const bool ok = mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1 &&
                  mallopt(M_TOP_PAD, 64 << 20) == 1;
  t.applied = ok;
  if (!ok) t.reason = "mallopt refused";
#else
  t.reason = "not glibc";
#endif
  return t;
}

}  // namespace

AllocatorTuning keep_large_allocations() {
  static std::once_flag once;
  static AllocatorTuning result;
  std::call_once(once, [] { result = apply(); });
  return result;
}

}  // namespace bachgen::runtime
