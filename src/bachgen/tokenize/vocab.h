// The vocabularies by id and name: what a token shard's header, a model file's spec and a
// command's --vocab say. The arithmetic of each vocabulary lives in its own header
// (satb16.h, performance388.h). Torch-free.
#pragma once

#include <cstdint>
#include <string>

namespace bachgen::tokenize {

enum class VocabId : uint32_t { kSatb16 = 1, kSatb16Onset = 2, kPerformance388 = 3 };
const char* vocab_name(VocabId id);         // "satb16", "satb16-onset", "performance388"
uint32_t vocab_size(VocabId id);
VocabId parse_vocab(const std::string& name);  // throws std::invalid_argument
inline bool is_chorale_vocab(VocabId id) { return id != VocabId::kPerformance388; }

}  // namespace bachgen::tokenize
