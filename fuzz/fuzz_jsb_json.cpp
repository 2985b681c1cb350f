// libFuzzer target for the JSB Chorales JSON loader: any bytes either load or throw
// std::runtime_error; whatever loads must encode to satb16 tokens and decode back exactly.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "bachgen/data/jsb.h"
#include "bachgen/tokenize/satb16.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bachgen;
  data::JsbCorpus corpus;
  try {
    corpus = data::parse_jsb(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
  } catch (const std::runtime_error&) {
    return 0;
  }
  for (const char* split : {"train", "valid", "test"}) {
    for (const music::ChoraleGrid& grid : corpus.split(split)) {
      std::vector<int32_t> tokens;
      try {
        tokens = tokenize::encode_satb16(grid);
      } catch (const std::invalid_argument&) {
        continue;  // a pitch outside 36-81: refused cleanly
      }
      if (!(tokenize::decode_satb16(tokens) == grid)) {
        std::fprintf(stderr, "satb16 round trip changed a grid\n");
        std::abort();
      }
    }
  }
  return 0;
}
