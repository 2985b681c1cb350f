// Token shards: exact round trips, the documented byte layout, and a clear error for every
// kind of damage.
#include <gtest/gtest.h>

#include "bachgen/data/token_shard.h"
#include "midi_bytes.h"

namespace bachgen::data {
namespace {

TokenShard small_shard() {
  TokenShard s;
  s.vocab = VocabId::kSatb16;
  s.add_piece({1, 42, 38, 33, 26, 2});
  s.add_piece({});
  s.add_piece({1, 3, 3, 3, 3, 2});
  return s;
}

TEST(TokenShard, LayoutAndRoundTrip) {
  const TokenShard s = small_shard();
  EXPECT_EQ(s.pieces(), 3u);
  EXPECT_EQ(s.piece_length(1), 0u);
  EXPECT_EQ(s.piece(2)[1], 3);
  const std::vector<uint8_t> bytes = encode_shard(s);
  ASSERT_EQ(bytes.size(), 40u + 4 * 8 + 12 * 2);
  EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 8), "BGTOKENS");
  EXPECT_EQ(bytes[8], 1);    // version
  EXPECT_EQ(bytes[12], 1);   // vocab id: satb16
  EXPECT_EQ(bytes[16], 50);  // vocab size
  EXPECT_EQ(bytes[24], 3);   // pieces
  EXPECT_EQ(bytes[32], 12);  // tokens
  EXPECT_EQ(bytes[40 + 8], 6);  // offsets[1]
  EXPECT_EQ(decode_shard(bytes.data(), bytes.size(), "s"), s);
  const std::string path = testing::temp_path("shard.tokens");
  write_shard(path, s);
  EXPECT_EQ(read_shard(path), s);
  TokenShard bad;
  EXPECT_THROW(bad.add_piece({50}), std::invalid_argument);
  EXPECT_EQ(parse_vocab("performance388"), VocabId::kPerformance388);
  EXPECT_THROW(parse_vocab("remi"), std::invalid_argument);
}

TEST(TokenShard, RejectsDamageNamingTheByte) {
  const std::vector<uint8_t> good = encode_shard(small_shard());
  struct Case {
    const char* what;
    size_t at;
    uint8_t value;
    size_t offset;
    const char* problem;
  };
  const std::vector<Case> cases = {
      {"magic", 0, 'X', 0, "bad magic"},
      {"version", 8, 2, 8, "format version 2"},
      {"vocab id", 12, 9, 12, "unknown vocabulary id 9"},
      {"vocab size", 16, 51, 16, "does not match satb16"},
      {"reserved", 21, 1, 20, "reserved field is not 0"},  // found by fuzz.token_shard
      {"piece count", 24, 4, 24, "do not match the file size"},
      {"offset order", 40 + 16, 1, 40 + 16, "piece offset 2 is out of order"},
      {"token id", 40 + 32 + 2, 60, 40 + 32 + 2, "token id 60 is outside"},
  };
  for (const Case& c : cases) {
    std::vector<uint8_t> bytes = good;
    bytes[c.at] = c.value;
    try {
      decode_shard(bytes.data(), bytes.size(), "s.tokens");
      ADD_FAILURE() << c.what;
    } catch (const std::runtime_error& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.rfind("s.tokens: byte " + std::to_string(c.offset) + ": ", 0), 0u) << c.what << ": " << msg;
      EXPECT_NE(msg.find(c.problem), std::string::npos) << c.what << ": " << msg;
    }
  }
  EXPECT_THROW(decode_shard(good.data(), good.size() - 1, "s"), std::runtime_error);
  EXPECT_THROW(decode_shard(good.data(), 10, "s"), std::runtime_error);
  EXPECT_THROW(read_shard(testing::temp_path("missing.tokens")), std::runtime_error);
}

}  // namespace
}  // namespace bachgen::data
