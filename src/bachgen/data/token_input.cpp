// Reading pieces to score from shards, MIDI files and JSB.
#include "bachgen/data/token_input.h"

#include <stdexcept>

#include "bachgen/data/jsb.h"
#include "bachgen/midi/midi_reader.h"
#include "bachgen/music/score.h"
#include "bachgen/tokenize/performance388.h"
#include "bachgen/tokenize/satb16.h"

namespace bachgen::data {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::vector<int32_t> encode_grid(const music::ChoraleGrid& grid, VocabId vocab) {
  switch (vocab) {
    case VocabId::kSatb16: return tokenize::encode_satb16(grid);
    case VocabId::kSatb16Onset: return tokenize::encode_satb16_onset(grid);
    case VocabId::kPerformance388:
      return tokenize::encode_performance(
          tokenize::performance_notes(music::score_to_midi(music::grid_to_score(grid))));
  }
  return {};
}

std::string token_name(VocabId vocab, int32_t token) {
  if (vocab == VocabId::kPerformance388) return tokenize::performance_token_name(token);
  return tokenize::satb16_token_name(token, vocab == VocabId::kSatb16Onset);
}

std::vector<TokenPiece> read_token_input(const std::string& input, VocabId vocab) {
  try {
    if (ends_with(input, ".tokens")) {
      const TokenShard shard = read_shard(input);
      if (shard.vocab != vocab) {
        throw std::runtime_error(std::string("holds ") + vocab_name(shard.vocab) + " tokens, not " +
                                 vocab_name(vocab));
      }
      std::vector<TokenPiece> pieces;
      for (size_t i = 0; i < shard.pieces(); ++i) {
        pieces.push_back({"piece " + std::to_string(i),
                          std::vector<int32_t>(shard.piece(i), shard.piece(i) + shard.piece_length(i))});
      }
      return pieces;
    }
    if (input.find(".json:") != std::string::npos) {
      const JsbRef ref = parse_jsb_ref(input, "");
      return {{ref.split + ":" + std::to_string(ref.index), encode_grid(load_jsb_piece(ref), vocab)}};
    }
    const midi::MidiFile file = midi::read_midi_file(input);
    if (vocab == VocabId::kPerformance388) {
      return {{input, tokenize::encode_performance(tokenize::performance_notes(file))}};
    }
    const music::Score score = music::score_from_midi(file);
    if (score.voices() != music::kVoices) {
      throw std::runtime_error("has " + std::to_string(score.voices()) + " voices; " +
                               vocab_name(vocab) + " needs 4 (S, A, T, B)");
    }
    return {{input, encode_grid(music::score_to_grid(score), vocab)}};
  } catch (const midi::MidiError&) {
    throw;  // names the file and the byte already
  } catch (const std::exception& e) {
    const std::string what = e.what();
    if (what.rfind(input, 0) == 0) throw;
    throw std::runtime_error(input + ": " + what);
  }
}

}  // namespace bachgen::data
