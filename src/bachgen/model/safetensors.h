// The safetensors format (for Python PyTorch users): an 8-byte little-endian header length, a
// JSON header naming each tensor's dtype, shape and byte range, then the raw little-endian
// data. bachgen writes fp32 weights under their module names, with the model's kind, config
// and vocabulary as JSON in the metadata entry "bachgen". Names: docs/model.md.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>

#include "bachgen/model/model_file.h"

namespace bachgen::model {

void export_safetensors(const std::string& path, const ModelSpec& spec, SequenceModelImpl& model);

struct SafetensorsFile {
  std::map<std::string, torch::Tensor> tensors;
  std::map<std::string, std::string> metadata;
};
// Reads F32 / F64 / I64 tensors; throws std::runtime_error naming the file and the problem.
SafetensorsFile read_safetensors(const std::string& path);

}  // namespace bachgen::model
