// Vocabulary ids and names.
#include "bachgen/tokenize/vocab.h"

#include <stdexcept>

#include "bachgen/tokenize/performance388.h"
#include "bachgen/tokenize/satb16.h"

namespace bachgen::tokenize {

const char* vocab_name(VocabId id) {
  switch (id) {
    case VocabId::kSatb16: return Satb16Vocab::kName;
    case VocabId::kSatb16Onset: return Satb16OnsetVocab::kName;
    case VocabId::kPerformance388: return PerformanceVocab::kName;
  }
  return "?";
}

uint32_t vocab_size(VocabId id) {
  switch (id) {
    case VocabId::kSatb16: return Satb16Vocab::kSize;
    case VocabId::kSatb16Onset: return Satb16OnsetVocab::kSize;
    case VocabId::kPerformance388: return PerformanceVocab::kSize;
  }
  return 0;
}

VocabId parse_vocab(const std::string& name) {
  for (VocabId id : {VocabId::kSatb16, VocabId::kSatb16Onset, VocabId::kPerformance388}) {
    if (name == vocab_name(id)) return id;
  }
  throw std::invalid_argument("unknown vocabulary '" + name + "' (satb16, satb16-onset or performance388)");
}

}  // namespace bachgen::tokenize
