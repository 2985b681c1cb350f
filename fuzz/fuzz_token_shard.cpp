// libFuzzer target for the token shard decoder: any bytes either decode or throw
// std::runtime_error; whatever decodes must encode back to the same bytes.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <vector>

#include "bachgen/data/token_shard.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bachgen::data;
  TokenShard shard;
  try {
    shard = decode_shard(data, size, "fuzz");
  } catch (const std::runtime_error&) {
    return 0;
  }
  const std::vector<uint8_t> again = encode_shard(shard);
  if (again.size() != size || !std::equal(again.begin(), again.end(), data)) {
    std::fprintf(stderr, "shard decode -> encode changed the bytes\n");
    std::abort();
  }
  return 0;
}
