// Token shards: one binary file per split holding every piece's token ids, written by
// `bachgen prepare` and read by the data loaders. Layout (little-endian; docs/data.md):
//   magic "BGTOKENS" | u32 version | u32 vocab id | u32 vocab size | u32 reserved
//   u64 piece count N | u64 token count T | u64 offsets[N + 1] | u16 tokens[T]
// Piece i is tokens[offsets[i] .. offsets[i + 1]). Every field is checked on load.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bachgen/tokenize/vocab.h"

namespace bachgen::data {

// The vocabularies live in tokenize/vocab.h; the shard's header stores their ids.
using tokenize::VocabId;
using tokenize::parse_vocab;
using tokenize::vocab_name;
using tokenize::vocab_size;

inline constexpr uint32_t kShardVersion = 1;

struct TokenShard {
  VocabId vocab = VocabId::kSatb16;
  std::vector<uint64_t> offsets{0};  // N + 1 entries, offsets[0] = 0
  std::vector<uint16_t> tokens;

  size_t pieces() const { return offsets.size() - 1; }
  size_t piece_length(size_t i) const { return static_cast<size_t>(offsets[i + 1] - offsets[i]); }
  const uint16_t* piece(size_t i) const { return tokens.data() + offsets[i]; }
  void add_piece(const std::vector<int32_t>& piece_tokens);  // checks ids against the vocab
  friend bool operator==(const TokenShard& a, const TokenShard& b) {
    return a.vocab == b.vocab && a.offsets == b.offsets && a.tokens == b.tokens;
  }
};

std::vector<uint8_t> encode_shard(const TokenShard& shard);
// Throws std::runtime_error "NAME: byte OFFSET: PROBLEM" for anything but a valid shard.
TokenShard decode_shard(const uint8_t* bytes, size_t size, const std::string& name);
void write_shard(const std::string& path, const TokenShard& shard);  // atomic
TokenShard read_shard(const std::string& path);

}  // namespace bachgen::data
