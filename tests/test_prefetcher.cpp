// Loader workers: items come back in index order for any number of workers, start at the
// given index, and an item's exception reaches the consumer that asks for it.
#include "bachgen/data/prefetcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>

namespace bachgen::data {
namespace {

TEST(Prefetcher, ItemsComeInOrderForAnyWorkerCount) {
  for (int workers : {0, 1, 2, 5}) {
    std::atomic<int> made{0};
    Prefetcher<int64_t> p(
        [&made](int64_t i) {
          ++made;
          // Uneven work so that workers finish out of order.
          std::this_thread::sleep_for(std::chrono::microseconds((i * 7919) % 300));
          return i * i;
        },
        /*first=*/10, workers, /*depth=*/3);
    EXPECT_EQ(p.workers(), workers);
    for (int64_t i = 10; i < 60; ++i) ASSERT_EQ(p.next(), i * i) << workers << " workers";
    // Never more than depth items ahead of the consumer.
    EXPECT_LE(made.load(), 50 + 3) << workers << " workers";
  }
}

TEST(Prefetcher, AnExceptionReachesTheConsumerOfThatItem) {
  for (int workers : {0, 2}) {
    Prefetcher<int> p(
        [](int64_t i) -> int {
          if (i == 2) throw std::runtime_error("bad item 2");
          return static_cast<int>(i);
        },
        0, workers);
    EXPECT_EQ(p.next(), 0);
    EXPECT_EQ(p.next(), 1);
    try {
      p.next();
      FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "bad item 2");
    }
    EXPECT_EQ(p.next(), 3);  // and it goes on
  }
}

}  // namespace
}  // namespace bachgen::data
