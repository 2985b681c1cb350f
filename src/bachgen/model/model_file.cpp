// Model specs as JSON, presets, and the model archive.
#include "bachgen/model/model_file.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "bachgen/tokenize/vocab.h"
#include "bachgen/model/chorale_infill.h"
#include "bachgen/model/torchscript_model.h"

namespace bachgen::model {

namespace {

using nlohmann::json;

json transformer_json(const TransformerConfig& c) {
  return {{"vocab_size", c.vocab_size}, {"d_model", c.d_model},     {"layers", c.layers},
          {"heads", c.heads},           {"d_ff", c.d_ff},           {"max_relative", c.max_relative},
          {"relative", c.relative},     {"absolute_positions", c.absolute_positions},
          {"voice_period", c.voice_period}, {"tie_embeddings", c.tie_embeddings},
          {"dropout", c.dropout}};
}

json transformer_spec_json(const TransformerConfig& c) {
  json j = transformer_json(c);
  if (c.beat_steps > 0) j["beat_steps"] = c.beat_steps;  // absent in files from before it (0)
  if (c.conditions) j["conditions"] = true;              // format version 2
  return j;
}

json lstm_json(const LstmConfig& c) {
  return {{"vocab_size", c.vocab_size}, {"d_embed", c.d_embed}, {"hidden", c.hidden},
          {"layers", c.layers},         {"dropout", c.dropout}};
}

}  // namespace

int64_t format_version_for(const ModelSpec& spec) {
  // Version 2: conditions, or a conditioning model with relative attention (a version-1 reader
  // would build either without them and give wrong answers, so it must refuse the file).
  if (spec.kind == ModelKind::kMusicTransformer) return spec.transformer.conditions ? 2 : 1;
  if (spec.kind == ModelKind::kChoraleInfill) return spec.transformer.conditions || spec.transformer.relative ? 2 : 1;
  return 1;
}

std::string spec_to_json(const ModelSpec& spec) {
  json j = {{"kind", model_kind_name(spec.kind)}, {"vocab", spec.vocab}};
  if (spec.kind == ModelKind::kTorchScript) return j.dump();
  j["config"] = spec.kind == ModelKind::kMusicLstm ? lstm_json(spec.lstm) : transformer_spec_json(spec.transformer);
  return j.dump();
}

ModelSpec spec_from_json(const std::string& text) {
  ModelSpec spec;
  try {
    const json j = json::parse(text);
    spec.kind = parse_model_kind(j.at("kind").get<std::string>());
    spec.vocab = j.at("vocab").get<std::string>();
    const json& c = j.at("config");
    if (spec.kind == ModelKind::kMusicTransformer || spec.kind == ModelKind::kChoraleInfill) {
      TransformerConfig& t = spec.transformer;
      t.vocab_size = c.at("vocab_size");
      t.d_model = c.at("d_model");
      t.layers = c.at("layers");
      t.heads = c.at("heads");
      t.d_ff = c.at("d_ff");
      t.max_relative = c.at("max_relative");
      t.relative = c.at("relative");
      t.absolute_positions = c.at("absolute_positions");
      t.voice_period = c.at("voice_period");
      t.beat_steps = c.value("beat_steps", int64_t{0});
      t.conditions = c.value("conditions", false);
      t.tie_embeddings = c.at("tie_embeddings");
      t.dropout = c.at("dropout");
    } else if (spec.kind == ModelKind::kMusicLstm) {
      LstmConfig& l = spec.lstm;
      l.vocab_size = c.at("vocab_size");
      l.d_embed = c.at("d_embed");
      l.hidden = c.at("hidden");
      l.layers = c.at("layers");
      l.dropout = c.at("dropout");
    } else {
      throw std::invalid_argument(std::string("model kind '") + model_kind_name(spec.kind) + "' has no config");
    }
  } catch (const json::exception& e) {
    throw std::invalid_argument(std::string("bad model config: ") + e.what());
  }
  return spec;
}

SequenceModel build_model(const ModelSpec& spec) {
  if (spec.kind == ModelKind::kMusicTransformer) return std::make_shared<MusicTransformerImpl>(spec.transformer);
  if (spec.kind == ModelKind::kMusicLstm) return std::make_shared<MusicLstmImpl>(spec.lstm);
  if (spec.kind == ModelKind::kChoraleInfill) {
    if (spec.vocab != "satb16") throw std::invalid_argument("the conditioning model (chorale-infill) reads satb16, not " + spec.vocab);
    return std::make_shared<ChoraleInfillImpl>(spec.transformer);
  }
  throw std::invalid_argument(std::string("a ") + model_kind_name(spec.kind) + " model is loaded, not built");
}

std::vector<std::string> preset_names() {
  return {"tiny", "jsb-small", "jsb-meter", "jsb-compose", "jsb-base", "performance-small", "performance-base", "lstm-tiny", "lstm-base", "jsb-default", "infill-tiny", "jsb-infill", "compose-tiny", "harmonize-tiny", "jsb-harmonize"};
}

ModelSpec preset(const std::string& name, const std::string& vocab) {
  ModelSpec s;
  s.vocab = vocab;
  const int64_t v = tokenize::vocab_size(tokenize::parse_vocab(vocab));
  const bool chorale = vocab != "performance388";
  TransformerConfig& t = s.transformer;
  t.vocab_size = v;
  t.voice_period = chorale ? 4 : 0;
  if (name == "tiny" || name == "compose-tiny") {
    t.d_model = 32, t.layers = 2, t.heads = 2, t.d_ff = 64, t.max_relative = 64, t.dropout = 0.0;
    if (name == "compose-tiny") {  // tests: tiny with the beat and the conditions
      if (!chorale) throw std::invalid_argument("preset compose-tiny needs a chorale vocabulary, not " + vocab);
      t.beat_steps = 4, t.conditions = true;
    }
  } else if (name == "jsb-small") {
    t.d_model = 128, t.layers = 3, t.heads = 4, t.d_ff = 512, t.max_relative = 256;
  } else if (name == "jsb-meter") {
    // jsb-small that knows where the beat is (issue 18): the 16th within the beat as an input.
    if (!chorale) throw std::invalid_argument("preset jsb-meter needs a chorale vocabulary (satb16, satb16-onset), not " + vocab);
    t.d_model = 128, t.layers = 3, t.heads = 4, t.d_ff = 512, t.max_relative = 256, t.beat_steps = 4, t.dropout = 0.2;
  } else if (name == "jsb-compose") {
    // The composer of issue 18: the beat, and the piece's bar position, end and key as inputs
    // (tokenize/conditions.h); relative distances over 512 tokens (8 bars of 4/4).
    if (!chorale) throw std::invalid_argument("preset jsb-compose needs a chorale vocabulary (satb16, satb16-onset), not " + vocab);
    t.d_model = 128, t.layers = 4, t.heads = 4, t.d_ff = 512, t.max_relative = 512, t.beat_steps = 4, t.dropout = 0.2;
    t.conditions = true;
  } else if (name == "jsb-base") {
    t.d_model = 256, t.layers = 6, t.heads = 8, t.d_ff = 1024, t.max_relative = 512;
  } else if (name == "infill-tiny" || name == "jsb-infill") {
    if (vocab != "satb16") throw std::invalid_argument("preset " + name + " (the conditioning model) needs satb16 data, not " + vocab);
    s.kind = ModelKind::kChoraleInfill;
    // What the model does regardless (model/chorale_infill.h), so that the saved config says it.
    t.relative = false, t.absolute_positions = true, t.tie_embeddings = false;
    if (name == "infill-tiny") {
      t.d_model = 32, t.layers = 2, t.heads = 2, t.d_ff = 64, t.dropout = 0.0;
    } else {
      t.d_model = 192, t.layers = 4, t.heads = 6, t.d_ff = 768, t.dropout = 0.2;
    }
  } else if (name == "harmonize-tiny" || name == "jsb-harmonize") {
    // The conditioning model of issue 19: relative attention over steps (max_relative each way)
    // in place of sinusoids, and the piece's bar position, end and key as inputs.
    if (vocab != "satb16") throw std::invalid_argument("preset " + name + " (the conditioning model) needs satb16 data, not " + vocab);
    s.kind = ModelKind::kChoraleInfill;
    t.relative = true, t.absolute_positions = false, t.tie_embeddings = false, t.conditions = true;
    if (name == "harmonize-tiny") {
      t.d_model = 32, t.layers = 2, t.heads = 2, t.d_ff = 64, t.max_relative = 16, t.dropout = 0.0;
    } else {
      t.d_model = 192, t.layers = 6, t.heads = 6, t.d_ff = 768, t.max_relative = 128, t.dropout = 0.2;
    }
  } else if (name == "performance-small") {
    t.d_model = 256, t.layers = 4, t.heads = 8, t.d_ff = 1024, t.max_relative = 512, t.dropout = 0.2;
  } else if (name == "performance-base") {
    t.d_model = 512, t.layers = 6, t.heads = 8, t.d_ff = 2048, t.max_relative = 1024;
  } else if (name == "lstm-tiny" || name == "lstm-base" || name == "jsb-default") {
    s.kind = ModelKind::kMusicLstm;
    s.lstm.vocab_size = v;
    if (name == "lstm-tiny") {
      s.lstm.d_embed = 32, s.lstm.hidden = 64, s.lstm.layers = 2, s.lstm.dropout = 0.0;
    } else {
      // jsb-default, the bundled chorale model (models/README.md): lstm-base with the dropout
      // that won the 60-minute comparison of docs/results.md.
      s.lstm.d_embed = 256, s.lstm.hidden = 512, s.lstm.layers = 3;
      s.lstm.dropout = name == "jsb-default" ? 0.3 : 0.2;
    }
  } else {
    std::string names;
    for (const std::string& n : preset_names()) names += (names.empty() ? "" : ", ") + n;
    throw std::invalid_argument("unknown preset '" + name + "' (" + names + ")");
  }
  return s;
}

void save_model(const std::string& path, const ModelSpec& spec, SequenceModelImpl& model) {
  torch::serialize::OutputArchive archive;
  archive.write("bachgen_format", c10::IValue(format_version_for(spec)));
  archive.write("bachgen_spec", c10::IValue(spec_to_json(spec)));
  const std::vector<torch::Tensor> params = model.parameters();
  if (!params.empty() && params.front().scalar_type() == torch::kBFloat16) {
    archive.write("bachgen_weights", c10::IValue(std::string("bf16")));
  }
  torch::serialize::OutputArchive weights;
  model.save(weights);
  archive.write("weights", weights);
  const std::string tmp = path + ".tmp";
  try {
    archive.save_to(tmp);
  } catch (const std::exception& e) {
    std::remove(tmp.c_str());
    throw std::runtime_error(path + ": cannot write the model: " + e.what());
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw std::runtime_error(path + ": cannot move the model file into place");
  }
}

namespace {

// A TorchScript file saved by Python, with its vocabulary in the extra file bachgen_vocab.
LoadedModel load_torchscript(const std::string& path, const std::string& expected_vocab) {
  torch::jit::ExtraFilesMap extra{{kTorchScriptVocabFile, ""}};
  torch::jit::Module module;
  try {
    module = torch::jit::load(path, c10::nullopt, extra);
  } catch (const std::exception&) {
    throw std::runtime_error(path + ": not a bachgen model file (no format version)");
  }
  LoadedModel out;
  out.spec.kind = ModelKind::kTorchScript;
  out.spec.vocab = extra[kTorchScriptVocabFile];
  if (out.spec.vocab.empty()) {
    throw std::runtime_error(path + ": not a bachgen model file (no format version), and as a "
                             "TorchScript model it names no vocabulary (extra file " +
                             std::string(kTorchScriptVocabFile) + ")");
  }
  int64_t size = 0;
  try {
    size = tokenize::vocab_size(tokenize::parse_vocab(out.spec.vocab));
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  if (!expected_vocab.empty() && out.spec.vocab != expected_vocab) {
    throw std::runtime_error(path + ": the model is for vocabulary " + out.spec.vocab + ", not " +
                             expected_vocab);
  }
  out.model = std::make_shared<TorchScriptModelImpl>(std::move(module), size);
  return out;
}

}  // namespace

LoadedModel load_model(const std::string& path, const std::string& expected_vocab) {
  auto fail = [&path](const std::string& problem) -> std::runtime_error {
    return std::runtime_error(path + ": " + problem);
  };
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path, torch::kCPU);  // a model saved on a GPU loads on any machine
  } catch (const std::exception&) {
    throw fail("not a readable model file (missing, damaged, or not a LibTorch archive)");
  }
  c10::IValue version, spec_json;
  if (!archive.try_read("bachgen_format", version) || !version.isInt()) {
    return load_torchscript(path, expected_vocab);
  }
  if (version.toInt() > kModelFormatVersion || version.toInt() < 1) {
    throw fail("model format version " + std::to_string(version.toInt()) +
               (version.toInt() < 1 ? " is not one bachgen wrote" : " is newer than this bachgen reads") +
               " (it reads 1 and 2; " + kModelFormatHistory + ")");
  }
  if (!archive.try_read("bachgen_spec", spec_json) || !spec_json.isString()) {
    throw fail("the model file has no config");
  }
  LoadedModel out;
  try {
    out.spec = spec_from_json(spec_json.toStringRef());
  } catch (const std::exception& e) {
    throw fail(e.what());
  }
  if (out.spec.kind == ModelKind::kChoraleInfill && version.toInt() < 2) {
    // A version-1 conditioning model (jsb-infill) is the model of issue 16 whatever its config
    // says (files from before the jsb-infill preset said it read relative true, absolute false):
    // sinusoids, no relative logits, no conditions.
    out.spec.transformer.relative = false;
    out.spec.transformer.absolute_positions = true;
    out.spec.transformer.conditions = false;
  }
  if (!expected_vocab.empty() && out.spec.vocab != expected_vocab) {
    throw fail("the model is for vocabulary " + out.spec.vocab + ", not " + expected_vocab);
  }
  out.model = build_model(out.spec);
  c10::IValue weight_type;
  const bool bf16 = archive.try_read("bachgen_weights", weight_type) && weight_type.isString() && weight_type.toStringRef() == "bf16";
  try {
    torch::serialize::InputArchive weights;
    archive.read("weights", weights);
    if (bf16) out.model->to(torch::kBFloat16);  // the archive's tensors replace these as they are
    out.model->load(weights);
    if (bf16) out.model->to(torch::kFloat32);
  } catch (const std::exception& e) {
    throw fail(std::string("the weights do not match the config: ") + e.what());
  }
  out.model->eval();
  return out;
}

std::string spec_shape(const ModelSpec& spec) {
  if (spec.kind == ModelKind::kMusicTransformer || spec.kind == ModelKind::kChoraleInfill) {
    const TransformerConfig& c = spec.transformer;
    if (spec.kind == ModelKind::kChoraleInfill) {
      return "D" + std::to_string(c.d_model) + " N" + std::to_string(c.layers) + " H" + std::to_string(c.heads) +
             " F" + std::to_string(c.d_ff) + (c.relative ? " M" + std::to_string(c.max_relative) : std::string()) +
             " bidirectional" + (c.conditions ? " conditions" : "");
    }
    return "D" + std::to_string(c.d_model) + " N" + std::to_string(c.layers) + " H" + std::to_string(c.heads) +
           " F" + std::to_string(c.d_ff) + " M" + std::to_string(c.max_relative);
  }
  if (spec.kind == ModelKind::kMusicLstm) {
    const LstmConfig& c = spec.lstm;
    return "embed " + std::to_string(c.d_embed) + " hidden " + std::to_string(c.hidden) + " x" +
           std::to_string(c.layers);
  }
  return model_kind_name(spec.kind);
}

double forward_macs_per_token(const ModelSpec& spec, int64_t sequence_length) {
  if (spec.kind == ModelKind::kMusicTransformer) return MusicTransformerImpl(spec.transformer).macs_per_token(sequence_length);
  if (spec.kind == ModelKind::kChoraleInfill) return ChoraleInfillImpl(spec.transformer).macs_per_token(sequence_length / 4);
  if (spec.kind == ModelKind::kMusicLstm) return MusicLstmImpl(spec.lstm).macs_per_token();
  return 0.0;
}

}  // namespace bachgen::model
