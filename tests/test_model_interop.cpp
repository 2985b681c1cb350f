// Interop with Python PyTorch: `bachgen export --safetensors` read back exactly; the Python
// reference written from docs/model.md (tests/reference/model_reference.py, Debian
// python3-torch) gives the same log-probabilities as `bachgen score` within 1e-4; and a
// TorchScript model scripted by Python scores the same in bachgen as in Python.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "bachgen/data/token_shard.h"
#include "bachgen/model/model_file.h"
#include "bachgen/model/safetensors.h"
#include "bachgen/model/scoring.h"
#include "cli_run.h"
#include "corpus.h"

namespace bachgen::model {
namespace {

const std::string kReference = std::string(BACHGEN_SOURCE_DIR) + "/tests/reference/model_reference.py";

// Three short satb16 pieces of random pitches (BOS, steps, EOS).
std::string write_shard() {
  torch::manual_seed(4);
  data::TokenShard shard;
  shard.vocab = tokenize::VocabId::kSatb16;
  for (int64_t steps : {3, 7, 12}) {
    std::vector<int32_t> tokens = {1};
    const torch::Tensor pitches = torch::randint(3, 50, {steps * 4}, torch::kInt64);
    for (int64_t i = 0; i < steps * 4; ++i) tokens.push_back(static_cast<int32_t>(pitches[i].item<int64_t>()));
    tokens.push_back(2);
    shard.add_piece(tokens);
  }
  const std::string path = testing::test_file("pieces.tokens");
  data::write_shard(path, shard);
  return path;
}

std::vector<std::vector<double>> log_probs_of(const std::string& json_text) {
  const nlohmann::json j = nlohmann::json::parse(json_text);
  std::vector<std::vector<double>> out;
  for (const auto& piece : j.at("pieces")) out.push_back(piece.at("log_probs").get<std::vector<double>>());
  return out;
}

void expect_close(const std::vector<std::vector<double>>& a, const std::vector<std::vector<double>>& b,
                  double tolerance, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t p = 0; p < a.size(); ++p) {
    ASSERT_EQ(a[p].size(), b[p].size()) << what;
    for (size_t i = 0; i < a[p].size(); ++i) {
      EXPECT_NEAR(a[p][i], b[p][i], tolerance) << what << " piece " << p << " token " << i;
    }
  }
}

TEST(ModelInterop, PythonReferenceMatchesBachgenScore) {
  const std::string shard = write_shard();
  ModelSpec relative = preset("tiny", "satb16");
  relative.transformer.max_relative = 8;          // pieces are longer: clipping is exercised
  relative.transformer.absolute_positions = true;
  relative.transformer.beat_steps = 4;            // the beat embedding too
  relative.transformer.conditions = true;         // and the conditions, unknown (what score does)
  ModelSpec untied = preset("tiny", "satb16");
  untied.transformer.tie_embeddings = false;
  untied.transformer.relative = false;
  for (const auto& [name, spec] : {std::make_pair(std::string("relative"), relative),
                                   std::make_pair(std::string("untied"), untied),
                                   std::make_pair(std::string("lstm"), preset("lstm-tiny", "satb16"))}) {
    torch::manual_seed(6);
    SequenceModel m = build_model(spec);
    const std::string model_path = testing::test_file(name + ".pt");
    const std::string tensors = testing::test_file(name + ".safetensors");
    save_model(model_path, spec, *m);

    const testing::CliResult exported =
        testing::run_command(BACHGEN_CLI, "export --model '" + model_path + "' --safetensors '" + tensors + "'");
    ASSERT_EQ(exported.exit_code, 0) << exported.err;
    // The file holds every parameter exactly, and the config.
    const SafetensorsFile file = read_safetensors(tensors);
    EXPECT_EQ(file.metadata.at("bachgen"), spec_to_json(spec));
    for (const auto& p : m->named_parameters()) {
      ASSERT_TRUE(file.tensors.count(p.key())) << p.key();
      EXPECT_TRUE(torch::equal(file.tensors.at(p.key()), p.value())) << p.key();
    }

    const testing::CliResult ours =
        testing::run_command(BACHGEN_CLI, "score --model '" + model_path + "' --input '" + shard + "' --json");
    ASSERT_EQ(ours.exit_code, 0) << ours.err;
    const testing::CliResult theirs =
        testing::run_command("/usr/bin/python3", "'" + kReference + "' '" + tensors + "' '" + shard + "'");
    ASSERT_EQ(theirs.exit_code, 0) << theirs.err << " (is Debian's python3-torch installed? scripts/setup.sh does it)";
    expect_close(log_probs_of(ours.out), log_probs_of(theirs.out), 1e-4, name);

    // The JSON's totals are the sums of its parts.
    const nlohmann::json j = nlohmann::json::parse(ours.out);
    double nll = 0;
    for (const auto& piece : j["pieces"]) nll += piece["nll"].get<double>();
    EXPECT_NEAR(j["total"]["nll"].get<double>(), nll, 1e-9);
    EXPECT_EQ(j["total"]["scored_tokens"], 13 + 29 + 49);
  }
}

TEST(ModelInterop, TorchScriptFromPythonScoresTheSame) {
  const std::string shard = write_shard();
  const std::string scripted = testing::test_file("scripted.pt");
  const testing::CliResult python = testing::run_command(
      "/usr/bin/python3", "'" + kReference + "' --torchscript '" + scripted + "' satb16 '" + shard + "'");
  ASSERT_EQ(python.exit_code, 0) << python.err;
  const testing::CliResult ours =
      testing::run_command(BACHGEN_CLI, "score --model '" + scripted + "' --input '" + shard + "' --json");
  ASSERT_EQ(ours.exit_code, 0) << ours.err;
  EXPECT_EQ(nlohmann::json::parse(ours.out)["kind"], "torchscript");
  expect_close(log_probs_of(ours.out), log_probs_of(python.out), 1e-4, "torchscript");
  // Its step API recomputes the prefix and agrees with forward.
  LoadedModel loaded = load_model(scripted, "satb16");
  const torch::Tensor tokens = torch::tensor({1, 30, 31, 32, 33}, torch::kInt64).view({1, 5});
  const torch::Tensor full = loaded.model->forward(tokens);
  DecodeState state;
  for (int64_t i = 0; i < 5; ++i) {
    const torch::Tensor step = loaded.model->step(tokens.index({torch::indexing::Slice(), torch::indexing::Slice(i, i + 1)}), state);
    EXPECT_LT((step - full.index({torch::indexing::Slice(), i})).abs().max().item<float>(), 1e-5);
  }
  EXPECT_THROW(load_model(scripted, "performance388"), std::runtime_error);
}

TEST(ModelInterop, ScoreReadsMidiAndJsbAndRefusesBadInput) {
  ModelSpec spec = preset("tiny", "satb16");
  SequenceModel m = build_model(spec);
  const std::string model_path = testing::test_file("tiny.pt");
  save_model(model_path, spec, *m);
  const testing::CliResult bad =
      testing::run_command(BACHGEN_CLI, "score --model '" + model_path + "' --input /nonexistent.mid");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("/nonexistent.mid: cannot open"), std::string::npos) << bad.err;
  const testing::CliResult not_model =
      testing::run_command(BACHGEN_CLI, "score --model '" + write_shard() + "' --input x.mid");
  EXPECT_EQ(not_model.exit_code, 1);
  EXPECT_NE(not_model.err.find("not a"), std::string::npos) << not_model.err;
  const std::string jsb = std::string(BACHGEN_SOURCE_DIR) + "/data/jsb-chorales/Jsb16thSeparated.json";
  if (io::is_directory(std::string(BACHGEN_SOURCE_DIR) + "/data/jsb-chorales")) {
    const testing::CliResult r =
        testing::run_command(BACHGEN_CLI, "score --model '" + model_path + "' --input '" + jsb + ":test:0' --summary");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("test:0: "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("total: 1 pieces"), std::string::npos) << r.out;
  }
}

TEST(ModelInterop, AttentionMapsAreCausalDistributions) {
  ModelSpec spec = preset("tiny", "satb16");
  torch::manual_seed(8);
  SequenceModel m = build_model(spec);
  const std::string model_path = testing::test_file("tiny.pt");
  save_model(model_path, spec, *m);
  const std::string out = testing::test_file("maps");
  const testing::CliResult r = testing::run_command(
      BACHGEN_CLI, "attention --model '" + model_path + "' --input '" + write_shard() + "' --out '" + out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("4 heatmaps (14 tokens, 2 layers)"), std::string::npos) << r.out;  // first piece: 3 steps
  const nlohmann::json j = nlohmann::json::parse(testing::slurp(out + "/attention.json"));
  ASSERT_EQ(j["layers"].size(), 2u);
  ASSERT_EQ(j["layers"][0].size(), 2u);
  for (const auto& layer : j["layers"]) {
    for (const auto& head : layer) {
      ASSERT_EQ(head.size(), 14u);
      for (size_t i = 0; i < 14; ++i) {
        double sum = 0;
        for (size_t k = 0; k < 14; ++k) {
          const double w = head[i][k].get<double>();
          if (k > i) {
            EXPECT_EQ(w, 0.0);  // causal: no weight on later tokens
          }
          sum += w;
        }
        EXPECT_NEAR(sum, 1.0, 1e-5);
      }
    }
  }
  EXPECT_EQ(j["token_names"][0], "BOS");
  const std::string png = testing::slurp(out + "/layer1_head1.png");
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  const testing::CliResult lstm_refused = testing::run_command(BACHGEN_CLI, [&] {
    const ModelSpec l = preset("lstm-tiny", "satb16");
    SequenceModel lm = build_model(l);
    save_model(testing::test_file("lstm.pt"), l, *lm);
    return "attention --model '" + testing::test_file("lstm.pt") + "' --input x.mid --out '" + out + "'";
  }());
  EXPECT_EQ(lstm_refused.exit_code, 1);
  EXPECT_NE(lstm_refused.err.find("need a Music Transformer"), std::string::npos) << lstm_refused.err;
}

TEST(ModelInterop, EvalEqualsTheSumOfPieceScores) {
  const std::string dir = testing::test_file("prepared");
  std::system(("mkdir -p '" + dir + "'").c_str());
  std::system(("cp '" + write_shard() + "' '" + dir + "/test.tokens'").c_str());
  ModelSpec spec = preset("tiny", "satb16");
  torch::manual_seed(9);
  SequenceModel m = build_model(spec);
  m->eval();
  const std::string model_path = testing::test_file("tiny.pt");
  save_model(model_path, spec, *m);
  // The reference: score_tokens piece by piece.
  const data::TokenShard shard = data::read_shard(dir + "/test.tokens");
  double nll = 0;
  size_t tokens = 0;
  for (size_t p = 0; p < shard.pieces(); ++p) {
    const TokenScores s = score_tokens(*m, std::vector<int32_t>(shard.piece(p), shard.piece(p) + shard.piece_length(p)));
    nll += s.nll();
    tokens += s.log_probs.size();
  }
  const testing::CliResult r = testing::run_command(
      BACHGEN_CLI, "eval --model '" + model_path + "' --data '" + dir + "' --split test --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["pieces"], 3);
  EXPECT_EQ(j["tokens"].get<size_t>(), tokens);
  // Batched windows and single pieces run fp32 matmuls of other shapes: equal up to rounding.
  EXPECT_NEAR(j["nll"].get<double>(), nll, 1e-7 * nll);
  EXPECT_NEAR(j["nll_per_step"].get<double>(), 4 * j["nll_per_token"].get<double>(), 1e-12);
  EXPECT_GE(j["accuracy"].get<double>(), 0.0);
  EXPECT_LE(j["accuracy"].get<double>(), 1.0);
  // Short windows score the same tokens (with less context).
  const testing::CliResult w = testing::run_command(
      BACHGEN_CLI, "eval --model '" + model_path + "' --data '" + dir + "' --window 8 --json");
  ASSERT_EQ(w.exit_code, 0) << w.err;
  EXPECT_EQ(nlohmann::json::parse(w.out)["tokens"].get<size_t>(), tokens);
  // Through generation's fast decoder, the same windows (whole pieces, and of 8 tokens at their
  // offsets): fp32 the same score up to rounding, int8 close to it.
  for (const std::string window : {"4096", "8"}) {
    const nlohmann::json forward = nlohmann::json::parse(
        testing::run_command(BACHGEN_CLI, "eval --model '" + model_path + "' --data '" + dir + "' --window " + window + " --json").out);
    for (const std::string weights : {"fp32", "int8"}) {
      const testing::CliResult f = testing::run_command(BACHGEN_CLI, "eval --model '" + model_path + "' --data '" + dir +
                                                                         "' --window " + window + " --decode-weights " + weights + " --json");
      ASSERT_EQ(f.exit_code, 0) << f.err;
      const nlohmann::json fj = nlohmann::json::parse(f.out);
      EXPECT_EQ(fj["decoder"], "fast " + weights);
      EXPECT_EQ(fj["tokens"], forward["tokens"]);
      EXPECT_NEAR(fj["nll"].get<double>(), forward["nll"].get<double>(),
                  (weights == "fp32" ? 1e-5 : 1e-2) * forward["nll"].get<double>()) << weights << " window " << window;
    }
  }
  // A bundled model by name, as generate takes it.
  const testing::CliResult bundled = testing::run_command(BACHGEN_CLI, "eval --model jsb-lstm --data '" + dir + "' --json");
  ASSERT_EQ(bundled.exit_code, 0) << bundled.err;
  EXPECT_EQ(nlohmann::json::parse(bundled.out)["tokens"].get<size_t>(), tokens);
  // A model of another vocabulary is refused.
  const ModelSpec other = preset("tiny", "performance388");
  SequenceModel om = build_model(other);
  save_model(testing::test_file("perf.pt"), other, *om);
  const testing::CliResult bad = testing::run_command(
      BACHGEN_CLI, "eval --model '" + testing::test_file("perf.pt") + "' --data '" + dir + "'");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("is for performance388"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace bachgen::model
