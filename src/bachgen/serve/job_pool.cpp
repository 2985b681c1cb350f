// The studio's bounded worker pool.
#include "bachgen/serve/job_pool.h"

#include <stdexcept>

namespace bachgen::serve {

JobPool::JobPool(int workers, int queue) : queue_capacity_(queue) {
  if (workers < 1) throw std::invalid_argument("the worker pool needs at least one worker");
  if (queue < 0) throw std::invalid_argument("the worker pool's queue cannot be negative");
  for (int w = 0; w < workers; ++w) threads_.emplace_back([this, w] { work(w); });
}

JobPool::~JobPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : threads_) t.join();
}

bool JobPool::try_submit(Job job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ || running_ + jobs_.size() >= threads_.size() + static_cast<size_t>(queue_capacity_)) {
      ++refused_;
      return false;
    }
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
  return true;
}

void JobPool::work(int worker) {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, nothing left
      job = std::move(jobs_.front());
      jobs_.pop_front();
      ++running_;
    }
    job(worker);  // jobs report their own errors (the server's jobs catch everything)
    std::lock_guard<std::mutex> lock(mutex_);
    --running_;
  }
}

size_t JobPool::running() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return running_;
}

size_t JobPool::waiting() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return jobs_.size();
}

size_t JobPool::refused() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return refused_;
}

}  // namespace bachgen::serve
