// What the trainer's tests share: a prepared-data folder of patterned four-voice pieces, fresh
// run folders named after the running test, and the losses a run logged.
#pragma once

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bachgen/data/token_shard.h"
#include "cli_run.h"

namespace bachgen::testing {

// train and valid shards (satb16) of `pieces` pieces of 24 steps; piece p's chords climb from a
// base shifted by p * spread.
inline std::string write_patterned_data(int pieces = 6, int spread = 1) {
  const std::string dir = test_file("data");
  std::system(("rm -rf '" + dir + "' && mkdir -p '" + dir + "'").c_str());
  for (const char* split : {"train", "valid"}) {
    data::TokenShard shard;
    shard.vocab = tokenize::VocabId::kSatb16;
    for (int p = 0; p < pieces; ++p) {
      std::vector<int32_t> t = {1};
      for (int step = 0; step < 24; ++step) {
        const int base = 60 + (p * spread + step / 2) % 7;
        for (int v : {base + 12, base + 7, base + 4, base - 12}) t.push_back(4 + v - 36);
      }
      t.push_back(2);
      shard.add_piece(t);
    }
    data::write_shard(dir + "/" + split + ".tokens", shard);
  }
  return dir;
}

// A run folder of this test, emptied first: reruns of the suite must not find old runs.
inline std::string fresh_run(const std::string& name) {
  const std::string dir = test_file(name);
  std::system(("rm -rf '" + dir + "'").c_str());
  return dir;
}

// The training losses of RUN/metrics.jsonl, step by step.
inline std::vector<double> logged_losses(const std::string& run) {
  std::vector<double> out;
  std::ifstream in(run + "/metrics.jsonl");
  for (std::string line; std::getline(in, line);) {
    const nlohmann::json j = nlohmann::json::parse(line);
    if (j.contains("loss")) out.push_back(j["loss"].get<double>());
  }
  return out;
}

}  // namespace bachgen::testing
