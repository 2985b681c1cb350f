// The studio's results in memory: a bounded store (a count and a byte limit, the oldest
// evicted first) keyed by unguessable ids (128 random bits as 32 lowercase hex digits).
// Nothing here touches the file system, so an id can never name a path. Torch-free;
// docs/studio.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bachgen/music/chorale.h"

namespace bachgen::serve {

struct StoredResult {
  std::string id;                             // set by ResultStore::add
  std::string kind;                           // compose | harmonize | infill
  int64_t bars = 0;                           // in the result's meter
  int steps_per_bar = 16;
  std::map<std::string, std::string> files;   // extension (mid, musicxml, wav, json) -> bytes
  std::string summary_json;                   // what POST answered (a JSON object)
  std::shared_ptr<const music::Chorale> chorale;  // the music itself (continue and infill start from it)
  size_t bytes() const;
};

class ResultStore {
 public:
  ResultStore(size_t max_count, size_t max_bytes);

  // Stores the result under a fresh id (returned, also written into it) and evicts the oldest
  // results until both limits hold again; a result larger than max_bytes alone is refused
  // (std::length_error).
  std::string add(StoredResult result);
  // Null when the id is unknown or was evicted.
  std::shared_ptr<const StoredResult> get(const std::string& id) const;

  size_t count() const;
  size_t bytes() const;
  size_t evicted() const;
  size_t max_count() const { return max_count_; }
  size_t max_bytes() const { return max_bytes_; }

  // 32 lowercase hex digits: the only shape an id can have.
  static bool is_valid_id(const std::string& id);
  // 128 bits from std::random_device, as 32 lowercase hex digits.
  static std::string new_id();

 private:
  size_t max_count_, max_bytes_;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const StoredResult>> by_id_;
  std::deque<std::string> order_;  // oldest first
  size_t bytes_ = 0;
  size_t evicted_ = 0;
};

}  // namespace bachgen::serve
