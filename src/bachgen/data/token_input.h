// What `bachgen score` and `bachgen attention` read: a token shard (every piece), a MIDI file
// (tokenized with the model's vocabulary), or one JSB piece written FILE.json:SPLIT:INDEX.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bachgen/data/token_shard.h"
#include "bachgen/music/chorale_grid.h"

namespace bachgen::data {

struct TokenPiece {
  std::string name;
  std::vector<int32_t> tokens;  // BOS ... EOS
};

// Throws std::runtime_error naming the input and the problem.
std::vector<TokenPiece> read_token_input(const std::string& input, VocabId vocab);

// A four-voice grid in any vocabulary (performance388 through Score -> MIDI -> performance
// notes). Throws std::invalid_argument for a pitch the chorale vocabularies cannot hold.
std::vector<int32_t> encode_grid(const music::ChoraleGrid& grid, VocabId vocab);

// A readable name of a token of the vocabulary ("BOS", "D5", "D5~", "ON60", "SHIFT100", ...).
std::string token_name(VocabId vocab, int32_t token);

}  // namespace bachgen::data
