// TFRecord framing and the few protobuf fields TensorBoard scalars need.
#include "bachgen/train/tensorboard.h"

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "bachgen/io/files.h"

namespace bachgen::train {

namespace {

std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;  // reflected 0x1EDC6F41
    table[i] = c;
  }
  return table;
}

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

template <typename T>
void put_fixed(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));  // little-endian hosts
  out.append(b, sizeof(T));
}

void put_bytes_field(std::string& out, int field, const std::string& bytes) {
  put_varint(out, static_cast<uint64_t>(field) << 3 | 2);
  put_varint(out, bytes.size());
  out += bytes;
}

std::string event_bytes(double wall_time, int64_t step) {
  std::string e;
  e.push_back(0x09);  // field 1, fixed64: wall_time
  put_fixed(e, wall_time);
  e.push_back(0x10);  // field 2, varint: step
  put_varint(e, static_cast<uint64_t>(step));
  return e;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// --- reading ---------------------------------------------------------------------------------

struct Reader {
  const uint8_t* p;
  const uint8_t* end;
  const uint8_t* base;
  const std::string& path;
  [[noreturn]] void fail(const std::string& problem) const {
    throw std::runtime_error(path + ": byte " + std::to_string(p - base) + ": " + problem);
  }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p >= end) fail("varint runs past its message");
      const uint8_t b = *p++;
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    fail("varint longer than 10 bytes");
  }
  template <typename T>
  T fixed() {
    if (end - p < static_cast<std::ptrdiff_t>(sizeof(T))) fail("fixed field runs past its message");
    T v;
    std::memcpy(&v, p, sizeof(T));
    p += sizeof(T);
    return v;
  }
  Reader sub() {  // a length-delimited field's contents
    const uint64_t n = varint();
    if (n > static_cast<uint64_t>(end - p)) fail("length-delimited field runs past its message");
    Reader r{p, p + n, base, path};
    p += n;
    return r;
  }
  void skip(uint64_t wire) {
    switch (wire) {
      case 0: varint(); break;
      case 1: fixed<uint64_t>(); break;
      case 2: sub(); break;
      case 5: fixed<uint32_t>(); break;
      default: fail("unknown protobuf wire type " + std::to_string(wire));
    }
  }
};

}  // namespace

uint32_t crc32c(const uint8_t* data, size_t size) {
  static const std::array<uint32_t, 256> table = make_crc_table();
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) c = table[(c ^ data[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

uint32_t masked_crc32c(const uint8_t* data, size_t size) {
  const uint32_t c = crc32c(data, size);
  return ((c >> 15) | (c << 17)) + 0xA282EAD8u;
}

TensorBoardWriter::TensorBoardWriter(const std::string& dir) {
  io::make_directories(dir);
  char host[256] = "localhost";
  ::gethostname(host, sizeof host - 1);
  path_ = dir + "/events.out.tfevents." + std::to_string(static_cast<int64_t>(now_seconds())) + "." + host;
  file_ = std::fopen(path_.c_str(), "ab");
  if (!file_) throw std::runtime_error(path_ + ": cannot create the event file");
  std::string e = event_bytes(now_seconds(), 0);
  put_bytes_field(e, 3, "brain.Event:2");  // field 3: file_version
  write_record(e);
  flush();
}

TensorBoardWriter::~TensorBoardWriter() {
  if (file_) std::fclose(file_);
}

void TensorBoardWriter::add_scalar(const std::string& tag, double value, int64_t step) {
  std::string v;
  put_bytes_field(v, 1, tag);  // Summary.Value.tag
  v.push_back(0x15);           // field 2, fixed32: simple_value
  put_fixed(v, static_cast<float>(value));
  std::string summary;
  put_bytes_field(summary, 1, v);  // Summary.value
  std::string e = event_bytes(now_seconds(), step);
  put_bytes_field(e, 5, summary);  // Event.summary
  write_record(e);
}

void TensorBoardWriter::write_record(const std::string& data) {
  std::string record;
  const uint64_t length = data.size();
  put_fixed(record, length);
  put_fixed(record, masked_crc32c(reinterpret_cast<const uint8_t*>(record.data()), 8));
  record += data;
  put_fixed(record, masked_crc32c(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
  if (std::fwrite(record.data(), 1, record.size(), file_) != record.size()) {
    throw std::runtime_error(path_ + ": write error");
  }
}

void TensorBoardWriter::flush() { std::fflush(file_); }

EventFile read_event_file(const std::string& path) {
  std::vector<uint8_t> bytes;
  try {
    bytes = io::read_file_bytes(path, size_t{1} << 30);
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  EventFile out;
  Reader file{bytes.data(), bytes.data() + bytes.size(), bytes.data(), path};
  while (file.p < file.end) {
    if (file.end - file.p < 12) file.fail("record header cut short");
    const uint8_t* header = file.p;
    const uint64_t length = file.fixed<uint64_t>();
    if (file.fixed<uint32_t>() != masked_crc32c(header, 8)) file.fail("record length CRC mismatch");
    if (length + 4 > static_cast<uint64_t>(file.end - file.p)) file.fail("record runs past the end of the file");
    Reader event{file.p, file.p + length, bytes.data(), path};
    file.p += length;
    if (file.fixed<uint32_t>() != masked_crc32c(event.p, length)) file.fail("record data CRC mismatch");
    double wall_time = 0;
    int64_t step = 0;
    std::vector<ScalarEvent> values;
    while (event.p < event.end) {
      const uint64_t key = event.varint();
      const uint64_t field = key >> 3, wire = key & 7;
      if (field == 1 && wire == 1) {
        wall_time = event.fixed<double>();
      } else if (field == 2 && wire == 0) {
        step = static_cast<int64_t>(event.varint());
      } else if (field == 3 && wire == 2) {
        Reader s = event.sub();
        out.file_version.assign(reinterpret_cast<const char*>(s.p), static_cast<size_t>(s.end - s.p));
      } else if (field == 5 && wire == 2) {
        Reader summary = event.sub();
        while (summary.p < summary.end) {
          const uint64_t k = summary.varint();
          if ((k >> 3) != 1 || (k & 7) != 2) {
            summary.skip(k & 7);
            continue;
          }
          Reader value = summary.sub();
          ScalarEvent sv;
          while (value.p < value.end) {
            const uint64_t vk = value.varint();
            if ((vk >> 3) == 1 && (vk & 7) == 2) {
              Reader t = value.sub();
              sv.tag.assign(reinterpret_cast<const char*>(t.p), static_cast<size_t>(t.end - t.p));
            } else if ((vk >> 3) == 2 && (vk & 7) == 5) {
              sv.value = value.fixed<float>();
            } else {
              value.skip(vk & 7);
            }
          }
          values.push_back(sv);
        }
      } else {
        event.skip(wire);
      }
    }
    for (ScalarEvent& v : values) {
      v.step = step;
      v.wall_time = wall_time;
      out.scalars.push_back(std::move(v));
    }
  }
  return out;
}

}  // namespace bachgen::train
