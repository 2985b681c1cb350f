// A bounded pool of worker threads for the studio's generations: at most `workers` jobs run
// at once and at most `queue` more wait; a job offered beyond that is refused at once (the
// server answers 503 with Retry-After) instead of piling up. Each job learns the index of the
// worker that runs it. Torch-free; docs/studio.md.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace bachgen::serve {

class JobPool {
 public:
  using Job = std::function<void(int worker)>;

  JobPool(int workers, int queue);
  ~JobPool();  // waits for the running jobs; queued jobs still run
  JobPool(const JobPool&) = delete;
  JobPool& operator=(const JobPool&) = delete;

  // False (and the job is dropped) when `workers + queue` jobs are already running or waiting.
  bool try_submit(Job job);

  int workers() const { return static_cast<int>(threads_.size()); }
  int queue_capacity() const { return queue_capacity_; }
  size_t running() const;
  size_t waiting() const;
  size_t refused() const;

 private:
  void work(int worker);

  int queue_capacity_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  size_t running_ = 0;
  size_t refused_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace bachgen::serve
