// The conditions (tokenize/conditions.h) of each piece of a chorale shard: its length in 16th
// steps, its key (Krumhansl-Kessler, music/key.h) and, where `bachgen prepare` found them, its
// meter and pickup (manifest.json "meters", docs/data.md). Torch-free.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bachgen/data/token_shard.h"
#include "bachgen/tokenize/conditions.h"

namespace bachgen::data {

struct PieceMeter {
  int steps_per_bar = 16;
  int bar_phase = 0;  // the 16th within its bar of the piece's first step
};

// One entry per piece. `meters` is index-aligned with the pieces (shorter or empty: unknown).
// A performance shard gives unknown conditions throughout.
std::vector<tokenize::PieceConditions> shard_conditions(const TokenShard& shard,
                                                        const std::vector<std::optional<PieceMeter>>& meters = {});

// The manifest's meters of one split ("train", "valid", "test"): empty when the folder has no
// manifest or the manifest has none. Throws std::runtime_error naming the file for a damaged
// entry.
std::vector<std::optional<PieceMeter>> read_split_meters(const std::string& data_dir, const std::string& split);

}  // namespace bachgen::data
