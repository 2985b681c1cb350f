// Writes seed shards for fuzz_token_shard: small valid shards of each vocabulary.
#include <cstdio>
#include <string>

#include "bachgen/data/token_shard.h"

int main(int argc, char** argv) {
  using namespace bachgen::data;
  if (argc != 2) return 2;
  const std::string dir = argv[1];
  int n = 0;
  for (VocabId v : {VocabId::kSatb16, VocabId::kSatb16Onset, VocabId::kPerformance388}) {
    TokenShard s;
    s.vocab = v;
    s.add_piece({1, 4, 5, 6, 7, 2});
    s.add_piece({});
    s.add_piece({1, 2});
    write_shard(dir + "/seed-" + std::to_string(n++) + ".tokens", s);
  }
  std::printf("%d seeds written to %s\n", n, dir.c_str());
  return 0;
}
