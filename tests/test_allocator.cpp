// runtime/allocator.h: after keep_large_allocations(), a 64 MiB buffer comes from the heap and
// is reused, not mapped afresh for every allocation.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "bachgen/runtime/allocator.h"

namespace {

TEST(Allocator, LargeBuffersStayInTheHeap) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
  const bachgen::runtime::AllocatorTuning t = bachgen::runtime::keep_large_allocations();
  if (!t.applied) GTEST_SKIP() << "malloc left as it is: " << t.reason;
  EXPECT_TRUE(t.reason.empty());
  const size_t mapped_before = mallinfo2().hblks;
  for (int i = 0; i < 4; ++i) {
    void* p = std::malloc(64u << 20);
    ASSERT_NE(p, nullptr);
    std::memset(p, i, 64u << 20);
    EXPECT_EQ(mallinfo2().hblks, mapped_before) << "a 64 MiB allocation was mmapped";
    std::free(p);
  }
  // The freed buffer was kept (below the 1 GiB trim threshold), not given back.
  EXPECT_GE(mallinfo2().fordblks, size_t{64} << 20);
  // A second call changes nothing and answers the same.
  EXPECT_EQ(bachgen::runtime::keep_large_allocations().applied, true);
#else
  GTEST_SKIP() << "not glibc 2.33+";
#endif
}

}  // namespace
