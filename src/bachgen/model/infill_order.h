// The order in which the conditioning model (chorale_infill.h) fills a chorale's hidden
// variables: one factorization that the harmonizer samples in (generate/infill.h) and the
// evaluation scores Bach's voices in (train/evaluate.h), so both agree. Torch-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "bachgen/runtime/splitmix.h"

namespace bachgen::model {

// `variables` shuffled with `rng` (Fisher-Yates from the end), cut into `passes` chunks, chunk
// k holding ceil(left / passes left) of what is left. passes is clamped to 1 ..
// variables.size(); no variables give no chunks. Chunk k is drawn (or scored) in pass k.
std::vector<std::vector<size_t>> infill_schedule(std::vector<size_t> variables, int64_t passes, runtime::SplitMix64& rng);

}  // namespace bachgen::model
