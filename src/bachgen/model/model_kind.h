// The kinds of model a model file holds, as an enum: parsed once from a file's spec (or a
// command's flag) and compared as values everywhere else. Torch-free.
#pragma once

#include <stdexcept>
#include <string>

namespace bachgen::model {

enum class ModelKind {
  kMusicTransformer,  // "music-transformer": causal, relative attention (next-token)
  kMusicLstm,         // "music-lstm": next-token
  kChoraleInfill,     // "chorale-infill": the orderless conditioning model (harmonize, infill)
  kTorchScript,       // "torchscript": a next-token model saved by Python (torchscript_model.h)
};

inline const char* model_kind_name(ModelKind kind) {
  switch (kind) {
    case ModelKind::kMusicTransformer: return "music-transformer";
    case ModelKind::kMusicLstm: return "music-lstm";
    case ModelKind::kChoraleInfill: return "chorale-infill";
    case ModelKind::kTorchScript: return "torchscript";
  }
  return "?";
}

// Throws std::invalid_argument "unknown model kind 'NAME'".
inline ModelKind parse_model_kind(const std::string& name) {
  for (ModelKind k : {ModelKind::kMusicTransformer, ModelKind::kMusicLstm, ModelKind::kChoraleInfill, ModelKind::kTorchScript}) {
    if (name == model_kind_name(k)) return k;
  }
  throw std::invalid_argument("unknown model kind '" + name + "'");
}

// Whether the model composes left to right (generate), as against conditioning (harmonize).
inline bool is_next_token_model(ModelKind kind) { return kind != ModelKind::kChoraleInfill; }

}  // namespace bachgen::model
