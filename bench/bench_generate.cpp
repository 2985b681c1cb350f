// Generation speed at batch 1: the KV-cache generator against the recompute generator (the
// whole prefix through the model for every token), for a preset's untrained weights (speed
// does not depend on them). Prints one JSON line per (preset, length):
//   cached_tokens_per_second: a whole sequence of LENGTH tokens from BOS, with the cache;
//   cached_tail / recompute_tail: tokens/s over the last 16 tokens up to LENGTH (the
//   recompute generator over a whole sequence would take minutes at 2048), and their ratio.
// Also saves the model as OUT_DIR/PRESET.pt for the process-start-to-MIDI timing in bench.sh.
//
//   bench_generate OUT_DIR PRESET [LENGTH...]
#include <torch/torch.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bachgen/generate/generator.h"
#include "bachgen/io/files.h"
#include "bachgen/model/model_file.h"
#include "bachgen/runtime/cpu_features.h"
#include "bachgen/runtime/torch_runtime.h"

using bachgen::generate::GenerateOptions;
using bachgen::generate::GenerateStats;

namespace {

// How a run decodes: the fused decoder (fp32 or int8 weights), LibTorch's step, or recompute.
struct Mode {
  bool cache = true, fast = true;
  bachgen::model::DecodeWeights weights = bachgen::model::DecodeWeights::kFp32;
};

GenerateOptions options_for(const Mode& mode) {
  GenerateOptions o;
  o.use_cache = mode.cache;
  o.fast_decoder = mode.fast;
  o.decode_weights = mode.weights;
  return o;
}

double whole_rate(bachgen::model::SequenceModelImpl& m, int64_t length, const Mode& mode) {
  GenerateOptions o = options_for(mode);
  o.max_new_tokens = length - 1;
  GenerateStats whole;
  bachgen::generate::generate_tokens(m, {1}, o, &whole);
  return whole.new_tokens / whole.seconds;
}

double tail_rate(bachgen::model::SequenceModelImpl& m, int64_t length, const Mode& mode) {
  const int64_t tail = 16;
  std::vector<int32_t> primer = {1};
  bachgen::generate::Rng rng(9);
  while (static_cast<int64_t>(primer.size()) < length - tail) primer.push_back(4 + static_cast<int32_t>(rng.next() % 40));
  GenerateOptions o = options_for(mode);
  o.max_new_tokens = tail;
  GenerateStats stats;
  // The cached generator first feeds the primer through the cache; only the new tokens count.
  bachgen::generate::generate_tokens(m, primer, o, &stats);
  return tail / (stats.seconds - stats.prefill_seconds);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_generate OUT_DIR PRESET [LENGTH...]\n");
    return 2;
  }
  const std::string out_dir = argv[1], preset = argv[2];
  std::vector<int64_t> lengths;
  for (int i = 3; i < argc; ++i) lengths.push_back(std::atoll(argv[i]));
  if (lengths.empty()) lengths = {256, 1024, 2048};
  const int threads = bachgen::runtime::set_threads(0);
  torch::manual_seed(1);
  const bachgen::model::ModelSpec spec = bachgen::model::preset(preset, "satb16");
  bachgen::model::SequenceModel m = bachgen::model::build_model(spec);
  bachgen::io::make_directories(out_dir);
  bachgen::model::save_model(out_dir + "/" + preset + ".pt", spec, *m);
  const Mode libtorch{true, false}, fast_fp32{true, true, bachgen::model::DecodeWeights::kFp32};
  const Mode fast_int8{true, true, bachgen::model::DecodeWeights::kInt8}, recompute{false, false};
  for (int64_t length : lengths) {
    const double int8_tail = tail_rate(*m, length, fast_int8);
    const double recompute_tail = tail_rate(*m, length, recompute);
    const nlohmann::json j = {{"preset", preset},
                              {"length", length},
                              {"threads", threads},
                              {"libtorch_step", whole_rate(*m, length, libtorch)},
                              {"fast_fp32", whole_rate(*m, length, fast_fp32)},
                              {"fast_int8", whole_rate(*m, length, fast_int8)},
                              {"fast_int8_tail", int8_tail},
                              {"recompute_tail", recompute_tail},
                              {"speedup", int8_tail / recompute_tail}};
    std::printf("%s\n", j.dump().c_str());
    std::fflush(stdout);
  }
  return 0;
}
