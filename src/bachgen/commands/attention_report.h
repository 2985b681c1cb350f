// `bachgen attention`: the attention weights of every layer and head of a Music Transformer on
// one piece, as JSON and as PNG heatmaps (the course's forward hooks, as an observer).
#pragma once

#include <cstdint>
#include <string>

namespace bachgen::commands {


struct AttentionSettings {
  std::string model;       // a bachgen Music Transformer file
  std::string input;       // as for `score`; the first piece is used
  std::string out;         // output folder
  int64_t max_tokens = 128;  // the piece is cut to this many tokens (JSON size grows as T^2)
};

// Writes OUT/attention.json and OUT/layer{L}_head{H}.png; returns a summary line. Throws
// std::runtime_error naming the file and the problem.
std::string write_attention_maps(const AttentionSettings& settings);

}  // namespace bachgen::commands
