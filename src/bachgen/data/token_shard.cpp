// Token shard encoding, decoding and file I/O.
#include "bachgen/data/token_shard.h"

#include <cstring>
#include <stdexcept>

#include "bachgen/io/files.h"
#include "bachgen/tokenize/performance388.h"
#include "bachgen/tokenize/satb16.h"

namespace bachgen::data {

namespace {

constexpr char kMagic[8] = {'B', 'G', 'T', 'O', 'K', 'E', 'N', 'S'};
constexpr size_t kHeaderBytes = 8 + 4 * 4 + 8 * 2;
constexpr size_t kMaxShardBytes = size_t{4} << 30;

template <typename T>
void put(std::vector<uint8_t>& out, T value) {
  for (size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

template <typename T>
T get(const uint8_t* p) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(p[i]) << (8 * i);
  return v;
}

}  // namespace

void TokenShard::add_piece(const std::vector<int32_t>& piece_tokens) {
  const uint32_t size = vocab_size(vocab);
  for (int32_t t : piece_tokens) {
    if (t < 0 || static_cast<uint32_t>(t) >= size) {
      throw std::invalid_argument("token id " + std::to_string(t) + " is outside " +
                                  vocab_name(vocab));
    }
    tokens.push_back(static_cast<uint16_t>(t));
  }
  offsets.push_back(tokens.size());
}

std::vector<uint8_t> encode_shard(const TokenShard& shard) {
  std::vector<uint8_t> out;
  out.reserve(kHeaderBytes + shard.offsets.size() * 8 + shard.tokens.size() * 2);
  for (char c : kMagic) out.push_back(static_cast<uint8_t>(c));
  put<uint32_t>(out, kShardVersion);
  put<uint32_t>(out, static_cast<uint32_t>(shard.vocab));
  put<uint32_t>(out, vocab_size(shard.vocab));
  put<uint32_t>(out, 0);
  put<uint64_t>(out, shard.pieces());
  put<uint64_t>(out, shard.tokens.size());
  for (uint64_t o : shard.offsets) put<uint64_t>(out, o);
  for (uint16_t t : shard.tokens) put<uint16_t>(out, t);
  return out;
}

TokenShard decode_shard(const uint8_t* bytes, size_t size, const std::string& name) {
  auto fail = [&name](size_t offset, const std::string& problem) {
    throw std::runtime_error(name + ": byte " + std::to_string(offset) + ": " + problem);
  };
  if (size < kHeaderBytes) fail(0, "too short for a token shard (" + std::to_string(size) + " bytes)");
  if (std::memcmp(bytes, kMagic, 8) != 0) fail(0, "not a bachgen token shard (bad magic)");
  const uint32_t version = get<uint32_t>(bytes + 8);
  if (version != kShardVersion) {
    fail(8, "shard format version " + std::to_string(version) + "; this bachgen reads version " +
                std::to_string(kShardVersion) + " (run bachgen prepare again)");
  }
  const uint32_t id = get<uint32_t>(bytes + 12);
  if (id < 1 || id > 3) fail(12, "unknown vocabulary id " + std::to_string(id));
  TokenShard shard;
  shard.vocab = static_cast<VocabId>(id);
  const uint32_t declared_size = get<uint32_t>(bytes + 16);
  if (declared_size != vocab_size(shard.vocab)) {
    fail(16, "vocabulary size " + std::to_string(declared_size) + " does not match " +
                 vocab_name(shard.vocab) + " (" + std::to_string(vocab_size(shard.vocab)) + ")");
  }
  if (get<uint32_t>(bytes + 20) != 0) fail(20, "reserved field is not 0");
  const uint64_t pieces = get<uint64_t>(bytes + 24);
  const uint64_t tokens = get<uint64_t>(bytes + 32);
  const size_t rest = size - kHeaderBytes;
  if (pieces >= rest / 8 || tokens > rest / 2 || (pieces + 1) * 8 + tokens * 2 != rest) {
    fail(24, "piece and token counts (" + std::to_string(pieces) + ", " + std::to_string(tokens) +
                 ") do not match the file size");
  }
  const uint8_t* p = bytes + kHeaderBytes;
  shard.offsets.resize(pieces + 1);
  for (uint64_t i = 0; i <= pieces; ++i) {
    shard.offsets[i] = get<uint64_t>(p + 8 * i);
    const bool bad = (i == 0 && shard.offsets[0] != 0) ||
                     (i > 0 && shard.offsets[i] < shard.offsets[i - 1]) || shard.offsets[i] > tokens ||
                     (i == pieces && shard.offsets[i] != tokens);
    if (bad) fail(kHeaderBytes + 8 * i, "piece offset " + std::to_string(i) + " is out of order");
  }
  p += 8 * (pieces + 1);
  shard.tokens.resize(tokens);
  for (uint64_t i = 0; i < tokens; ++i) {
    shard.tokens[i] = get<uint16_t>(p + 2 * i);
    if (shard.tokens[i] >= declared_size) {
      fail(static_cast<size_t>(p + 2 * i - bytes),
           "token id " + std::to_string(shard.tokens[i]) + " is outside the vocabulary");
    }
  }
  return shard;
}

void write_shard(const std::string& path, const TokenShard& shard) {
  io::write_file_atomically(path, encode_shard(shard));
}

TokenShard read_shard(const std::string& path) {
  std::vector<uint8_t> bytes;
  try {
    bytes = io::read_file_bytes(path, kMaxShardBytes);
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  return decode_shard(bytes.data(), bytes.size(), path);
}

}  // namespace bachgen::data
