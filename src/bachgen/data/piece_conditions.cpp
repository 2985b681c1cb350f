#include "bachgen/data/piece_conditions.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "bachgen/io/files.h"
#include "bachgen/music/key.h"
#include "bachgen/tokenize/satb16.h"

namespace bachgen::data {

std::vector<tokenize::PieceConditions> shard_conditions(const TokenShard& shard,
                                                        const std::vector<std::optional<PieceMeter>>& meters) {
  std::vector<tokenize::PieceConditions> out(shard.pieces());
  if (!tokenize::is_chorale_vocab(shard.vocab)) return out;
  for (size_t i = 0; i < shard.pieces(); ++i) {
    std::vector<int32_t> tokens(shard.piece(i), shard.piece(i) + shard.piece_length(i));
    music::ChoraleGrid grid;
    try {
      grid = shard.vocab == VocabId::kSatb16Onset ? tokenize::decode_satb16_onset(tokens) : tokenize::decode_satb16(tokens);
    } catch (const std::exception&) {
      continue;  // not whole steps: nothing known
    }
    tokenize::PieceConditions& c = out[i];
    c.steps = static_cast<int>(grid.steps());
    if (c.steps > 0) {
      c.key = tokenize::key_condition(music::guess_key(grid));
    }
    if (i < meters.size() && meters[i]) {
      c.steps_per_bar = meters[i]->steps_per_bar;
      c.bar_phase = meters[i]->bar_phase;
      if (!c.meter_known()) c.steps_per_bar = 0, c.bar_phase = 0;
    }
  }
  return out;
}

std::vector<std::optional<PieceMeter>> read_split_meters(const std::string& data_dir, const std::string& split) {
  const std::string path = data_dir + "/manifest.json";
  if (!io::is_regular_file(path)) return {};
  const std::vector<uint8_t> bytes = io::read_file_bytes(path, size_t{64} << 20);
  const nlohmann::json manifest = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (manifest.is_discarded()) throw std::runtime_error(path + ": not valid JSON");
  if (!manifest.contains("meters") || !manifest["meters"].contains(split)) return {};
  const nlohmann::json& list = manifest["meters"][split];
  if (!list.is_array()) throw std::runtime_error(path + ": meters." + split + " is not an array");
  std::vector<std::optional<PieceMeter>> out;
  for (size_t i = 0; i < list.size(); ++i) {
    const nlohmann::json& m = list[i];
    if (m.is_null()) {
      out.emplace_back();
      continue;
    }
    if (!m.is_array() || m.size() != 2 || !m[0].is_number_integer() || !m[1].is_number_integer()) {
      throw std::runtime_error(path + ": meters." + split + "[" + std::to_string(i) + "] is not [steps_per_bar, bar_phase] or null");
    }
    const int spb = m[0].get<int>(), phase = m[1].get<int>();
    if ((spb != 16 && spb != 12) || phase < 0 || phase >= spb) {
      throw std::runtime_error(path + ": meters." + split + "[" + std::to_string(i) + "]: steps per bar must be 16 or 12 and the phase below it");
    }
    out.push_back(PieceMeter{spb, phase});
  }
  return out;
}

}  // namespace bachgen::data
