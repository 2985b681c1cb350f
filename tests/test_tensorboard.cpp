// TensorBoard event files: CRC-32C against its published check values, and scalars written
// then read back through the documented record framing, with damage detected.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "bachgen/io/files.h"
#include "bachgen/train/tensorboard.h"
#include "midi_bytes.h"

namespace bachgen::train {
namespace {

TEST(TensorBoard, Crc32cCheckValues) {
  const std::string nine = "123456789";
  EXPECT_EQ(crc32c(reinterpret_cast<const uint8_t*>(nine.data()), nine.size()), 0xE3069283u);
  const std::vector<uint8_t> zeros(32, 0), ones(32, 0xFF);
  EXPECT_EQ(crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);  // RFC 3720 test vectors
  EXPECT_EQ(crc32c(ones.data(), ones.size()), 0x62A8AB43u);
}

TEST(TensorBoard, ScalarsRoundTripAndDamageIsCaught) {
  const std::string dir = testing::temp_path("tensorboard");
  std::system(("rm -rf '" + dir + "'").c_str());
  std::string path;
  {
    TensorBoardWriter w(dir);
    path = w.path();
    w.add_scalar("train/loss", 2.5, 0);
    w.add_scalar("train/lr", 1e-3, 1);
    w.add_scalar("valid/nll", 0.7071, 300);
  }
  EXPECT_NE(path.find("/events.out.tfevents."), std::string::npos);
  const EventFile f = read_event_file(path);
  EXPECT_EQ(f.file_version, "brain.Event:2");
  ASSERT_EQ(f.scalars.size(), 3u);
  EXPECT_EQ(f.scalars[0].tag, "train/loss");
  EXPECT_EQ(f.scalars[0].value, 2.5f);
  EXPECT_EQ(f.scalars[1].value, 1e-3f);
  EXPECT_EQ(f.scalars[2].step, 300);
  EXPECT_GT(f.scalars[2].wall_time, 1.6e9);

  // The first record by hand: 8-byte length, masked CRC of it, the event, masked CRC of that.
  const std::vector<uint8_t> bytes = io::read_file_bytes(path, 1 << 20);
  uint64_t length = 0;
  std::memcpy(&length, bytes.data(), 8);
  uint32_t crc = 0;
  std::memcpy(&crc, bytes.data() + 8, 4);
  EXPECT_EQ(crc, masked_crc32c(bytes.data(), 8));
  EXPECT_EQ(bytes[12], 0x09);  // Event.wall_time, fixed64
  std::memcpy(&crc, bytes.data() + 12 + length, 4);
  EXPECT_EQ(crc, masked_crc32c(bytes.data() + 12, length));

  std::vector<uint8_t> damaged = bytes;
  damaged[20] ^= 1;
  io::write_file_atomically(path, damaged);
  try {
    read_event_file(path);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("CRC mismatch"), std::string::npos) << e.what();
  }
  io::write_file_atomically(path, std::vector<uint8_t>(bytes.begin(), bytes.end() - 3));
  EXPECT_THROW(read_event_file(path), std::runtime_error);
}

}  // namespace
}  // namespace bachgen::train
