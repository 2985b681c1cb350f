// The studio's bounded result store.
#include "bachgen/serve/result_store.h"

#include <random>
#include <stdexcept>

namespace bachgen::serve {

size_t StoredResult::bytes() const {
  size_t total = summary_json.size();
  for (const auto& [extension, data] : files) total += extension.size() + data.size();
  if (chorale) total += chorale->grid.steps() * (sizeof(music::GridStep) + (chorale->grid.knows_onsets() ? 4 : 0));
  return total;
}

ResultStore::ResultStore(size_t max_count, size_t max_bytes) : max_count_(max_count), max_bytes_(max_bytes) {
  if (max_count == 0 || max_bytes == 0) throw std::invalid_argument("the result store needs room for at least one result");
}

std::string ResultStore::new_id() {
  static thread_local std::random_device device;
  static const char* kHex = "0123456789abcdef";
  std::string id;
  id.reserve(32);
  for (int word = 0; word < 4; ++word) {
    const uint32_t bits = device();
    for (int nibble = 7; nibble >= 0; --nibble) id.push_back(kHex[(bits >> (4 * nibble)) & 0xF]);
  }
  return id;
}

bool ResultStore::is_valid_id(const std::string& id) {
  if (id.size() != 32) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string ResultStore::add(StoredResult result) {
  const size_t size = result.bytes() + 32;
  if (size > max_bytes_) {
    throw std::length_error("a result of " + std::to_string(size) + " bytes is larger than the store's limit of " +
                            std::to_string(max_bytes_) + " bytes");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  std::string id;
  do {
    id = new_id();
  } while (by_id_.count(id) != 0);
  result.id = id;
  while (!order_.empty() && (order_.size() + 1 > max_count_ || bytes_ + size > max_bytes_)) {
    auto oldest = by_id_.find(order_.front());
    bytes_ -= oldest->second->bytes() + 32;
    by_id_.erase(oldest);
    order_.pop_front();
    ++evicted_;
  }
  by_id_.emplace(id, std::make_shared<const StoredResult>(std::move(result)));
  order_.push_back(id);
  bytes_ += size;
  return id;
}

std::shared_ptr<const StoredResult> ResultStore::get(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

size_t ResultStore::count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return order_.size();
}

size_t ResultStore::bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return bytes_;
}

size_t ResultStore::evicted() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return evicted_;
}

}  // namespace bachgen::serve
