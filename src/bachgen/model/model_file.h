// Model files and presets. A model file is a LibTorch archive holding the format version, the
// model's kind, config and vocabulary (as JSON) and its weights; loading needs nothing else,
// and a file of another model or vocabulary is refused clearly. docs/model.md.
#pragma once

#include <string>
#include <vector>

#include "bachgen/model/model_kind.h"
#include "bachgen/model/music_lstm.h"
#include "bachgen/model/music_transformer.h"

namespace bachgen::model {

// 1: the first. 2 (issue 18): a transformer may have the condition embeddings
// (bar_embedding, end_embedding, key_embedding; config "conditions": true). Files without
// them are still written as version 1; a program that reads only 1 refuses a version-2 file as
// newer, and this one refuses anything past 2 naming what it knows.
inline constexpr int64_t kModelFormatVersion = 2;
inline constexpr const char* kModelFormatHistory =
    "version 2 added the composer's conditions (bar position, steps to the end, key) and the conditioning model's relative attention and conditions";

// Everything needed to build a model again.
struct ModelSpec {
  ModelKind kind = ModelKind::kMusicTransformer;  // kTorchScript only when loaded
  std::string vocab = "satb16";             // the vocabulary name (tokenize/vocab.h)
  TransformerConfig transformer;
  LstmConfig lstm;
};

// The version a file of this spec is written with: 1 unless it needs what 2 added, so that
// older programs still read it.
int64_t format_version_for(const ModelSpec& spec);

std::string spec_to_json(const ModelSpec& spec);
ModelSpec spec_from_json(const std::string& json_text);  // throws std::invalid_argument

SequenceModel build_model(const ModelSpec& spec);

// "D128 N3 H4 F512 M256" (transformer) or "embed 256 hidden 512 x3" (LSTM).
std::string spec_shape(const ModelSpec& spec);
// Multiply-adds of the forward pass per token at a sequence length (matmuls only; the
// transformer's attention grows with the length, the LSTM's does not).
double forward_macs_per_token(const ModelSpec& spec, int64_t sequence_length);

// Named presets: tiny, jsb-small, jsb-base, performance-base, lstm-tiny, lstm-base. The
// vocabulary sets the vocabulary size (and the voice embedding for the chorale vocabularies).
ModelSpec preset(const std::string& name, const std::string& vocab);
std::vector<std::string> preset_names();

// Writes atomically (temp file, then rename). A model whose weights are bfloat16 is stored so
// (half the bytes, with the mark "bachgen_weights" = "bf16"); load_model gives fp32 back.
void save_model(const std::string& path, const ModelSpec& spec, SequenceModelImpl& model);

struct LoadedModel {
  ModelSpec spec;
  SequenceModel model;
};
// Loads a bachgen model file, or a TorchScript file saved by Python with its vocabulary in the
// extra file "bachgen_vocab" (torchscript_model.h; kind "torchscript"). Throws
// std::runtime_error "PATH: PROBLEM" for a missing, foreign, damaged or newer file, or (when
// expected_vocab is given) a model of another vocabulary.
LoadedModel load_model(const std::string& path, const std::string& expected_vocab = "");

}  // namespace bachgen::model
