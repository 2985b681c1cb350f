// TensorBoard scalar event files, written without TensorFlow: the TFRecord framing (length,
// masked CRC-32C of the length, data, masked CRC-32C of the data) around hand-encoded
// `Event` protocol buffers (wall_time, step, and a Summary of tag / simple_value pairs). The
// reader reads the same framing back and checks every CRC; tests use it.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace bachgen::train {

uint32_t crc32c(const uint8_t* data, size_t size);  // Castagnoli, as TFRecord uses
uint32_t masked_crc32c(const uint8_t* data, size_t size);

class TensorBoardWriter {
 public:
  // Creates DIR/events.out.tfevents.<seconds>.<host> and writes the file_version record.
  explicit TensorBoardWriter(const std::string& dir);
  ~TensorBoardWriter();
  TensorBoardWriter(const TensorBoardWriter&) = delete;
  TensorBoardWriter& operator=(const TensorBoardWriter&) = delete;

  void add_scalar(const std::string& tag, double value, int64_t step);
  void flush();
  const std::string& path() const { return path_; }

 private:
  void write_record(const std::string& event_bytes);
  std::string path_;
  std::FILE* file_ = nullptr;
};

struct ScalarEvent {
  std::string tag;
  float value = 0;
  int64_t step = 0;
  double wall_time = 0;
};

struct EventFile {
  std::string file_version;          // "brain.Event:2"
  std::vector<ScalarEvent> scalars;  // in file order
};

// Throws std::runtime_error naming the file, the byte offset and the problem (bad CRC, a cut
// record, a field that is not what the format says).
EventFile read_event_file(const std::string& path);

}  // namespace bachgen::train
