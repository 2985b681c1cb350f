// What the model subcommands produce: `score` (per-token log-probabilities and NLL of pieces,
// as text or JSON), `presets` (the preset table) and `export` (safetensors). Torch-free
// header, so the program that calls them needs no torch headers.
#pragma once

#include <cstdint>
#include <string>

namespace bachgen::commands {


struct ScoreSettings {
  std::string model;       // a bachgen model file or a TorchScript file (model_file.h)
  std::string input;       // a .tokens shard, a MIDI file, or FILE.json:SPLIT:INDEX
  bool json = false;       // one JSON object (keys: docs/model.md)
  bool per_token = true;   // text output: a line per token
};

// Throws std::runtime_error naming the file and the problem.
std::string score_report(const ScoreSettings& settings);

// `bachgen presets`: every preset for a vocabulary, with its shape, parameter count and
// forward FLOPs per token at a sequence length.
std::string preset_table(const std::string& vocab, int64_t sequence_length);

// `bachgen export --model M --safetensors OUT`: the model's fp32 weights and config.
void export_model_safetensors(const std::string& model_path, const std::string& out_path);

// `bachgen pack --model M --out OUT [--weights fp32|bf16]`: the model alone (a checkpoint's
// optimizer and training state dropped), its weights stored as fp32 or bf16. Returns what the
// command prints (sizes before and after).
std::string pack_model(const std::string& model_path, const std::string& out_path, const std::string& weights);

}  // namespace bachgen::commands
