// Loader workers: N threads compute the items `make(first)`, `make(first + 1)`, ... ahead of
// the consumer (at most `depth` ahead), and next() returns them in order. Since the training
// batches are pure functions of their index (token_dataset.h), the trainer gets the same
// batches with any number of workers; with 0 workers next() computes the item itself.
// An exception thrown by `make` is rethrown by the next() that asks for that item.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace bachgen::data {

template <class T>
class Prefetcher {
 public:
  Prefetcher(std::function<T(int64_t)> make, int64_t first, int workers, int64_t depth = 4)
      : make_(std::move(make)), next_(first), issued_(first), depth_(depth < 1 ? 1 : depth) {
    for (int w = 0; w < workers; ++w) threads_.emplace_back([this] { work(); });
  }
  ~Prefetcher() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_workers_.notify_all();
    for (std::thread& t : threads_) t.join();
  }
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  int workers() const { return static_cast<int>(threads_.size()); }

  // The item with the next index.
  T next() {
    if (threads_.empty()) return make_(next_++);
    std::unique_lock<std::mutex> lock(mutex_);
    item_ready_.wait(lock, [this] { return ready_.count(next_) > 0; });
    auto node = ready_.extract(next_);
    ++next_;
    lock.unlock();
    wake_workers_.notify_all();  // room for one more ahead
    if (node.mapped().second) std::rethrow_exception(node.mapped().second);
    return std::move(node.mapped().first);
  }

 private:
  void work() {
    for (;;) {
      int64_t index;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_workers_.wait(lock, [this] { return stopping_ || issued_ < next_ + depth_; });
        if (stopping_) return;
        index = issued_++;
      }
      std::pair<T, std::exception_ptr> result{};
      try {
        result.first = make_(index);
      } catch (...) {
        result.second = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        ready_.emplace(index, std::move(result));
      }
      item_ready_.notify_all();
    }
  }

  std::function<T(int64_t)> make_;
  int64_t next_;    // the index next() returns next
  int64_t issued_;  // the next index a worker takes
  int64_t depth_;
  bool stopping_ = false;
  std::map<int64_t, std::pair<T, std::exception_ptr>> ready_;
  std::mutex mutex_;
  std::condition_variable item_ready_;
  std::condition_variable wake_workers_;
  std::vector<std::thread> threads_;
};

}  // namespace bachgen::data
