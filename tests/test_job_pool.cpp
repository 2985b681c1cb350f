// The studio's bounded worker pool: how many run and wait, refusal beyond that, worker ids.
#include "bachgen/serve/job_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <thread>

namespace bachgen::serve {
namespace {

// Jobs that block until opened.
struct Gate {
  std::mutex mutex;
  std::condition_variable opened_cv;
  bool opened = false;
  void wait() {
    std::unique_lock<std::mutex> lock(mutex);
    opened_cv.wait(lock, [this] { return opened; });
  }
  void open() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      opened = true;
    }
    opened_cv.notify_all();
  }
};

void wait_until(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!condition() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_TRUE(condition());
}

TEST(JobPool, RunsWorkersPlusQueueJobsAndRefusesTheNext) {
  Gate gate;  // before the pool: its destructor joins workers that may still be leaving gate.wait()
  JobPool pool(2, 3);
  std::atomic<int> done{0};
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(pool.try_submit([&](int) {
      gate.wait();
      ++done;
    })) << i;
  }
  wait_until([&] { return pool.running() == 2; });
  EXPECT_EQ(pool.waiting(), 3u);
  EXPECT_FALSE(pool.try_submit([](int) {}));
  EXPECT_FALSE(pool.try_submit([](int) {}));
  EXPECT_EQ(pool.refused(), 2u);
  gate.open();
  wait_until([&] { return done == 5; });
  wait_until([&] { return pool.running() == 0; });
  EXPECT_TRUE(pool.try_submit([&](int) { ++done; }));  // room again
  wait_until([&] { return done == 6; });
}

TEST(JobPool, EachJobKnowsItsWorker) {
  std::mutex mutex;
  std::set<int> workers;
  {
    Gate gate;  // before the pool (see above)
    JobPool pool(3, 100);
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(pool.try_submit([&](int worker) {
        {
          std::lock_guard<std::mutex> lock(mutex);
          workers.insert(worker);
        }
        gate.wait();
      }));
    }
    wait_until([&] { return pool.running() == 3; });
    gate.open();
  }  // the destructor waits for them
  EXPECT_EQ(workers, (std::set<int>{0, 1, 2}));
}

TEST(JobPool, ZeroQueueMeansOnlyTheWorkers) {
  Gate gate;  // before the pool (see above)
  JobPool pool(1, 0);
  ASSERT_TRUE(pool.try_submit([&](int) { gate.wait(); }));
  wait_until([&] { return pool.running() == 1; });
  EXPECT_FALSE(pool.try_submit([](int) {}));
  gate.open();
}

TEST(JobPool, QueuedJobsStillRunAtShutdown) {
  std::atomic<int> done{0};
  {
    JobPool pool(1, 10);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(pool.try_submit([&](int) { ++done; }));
  }
  EXPECT_EQ(done, 10);
}

TEST(JobPool, RefusesBadSizes) {
  EXPECT_THROW(JobPool(0, 1), std::invalid_argument);
  EXPECT_THROW(JobPool(1, -1), std::invalid_argument);
}

}  // namespace
}  // namespace bachgen::serve
