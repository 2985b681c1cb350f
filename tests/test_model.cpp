// The models: skew relative attention equals the naive O(L^2 D) form (also past the maximum
// distance), causality, cached incremental decoding equals the full forward for both models,
// and model files that load to identical outputs and refuse what they are not.
#include <gtest/gtest.h>

#include <fstream>

#include "bachgen/model/model_file.h"
#include "midi_bytes.h"

namespace bachgen::model {
namespace {

TEST(Model, SkewAttentionEqualsNaiveRelativeAttention) {
  torch::manual_seed(0);
  AttentionOptions o;
  o.d_model = 32;
  o.heads = 4;
  o.max_relative = 16;
  o.dropout = 0.0;
  RelativeSelfAttention attention(o);
  attention->eval();
  for (int64_t length : {1, 2, 9, 16, 40}) {  // 40 > max_relative: clipped distances
    const torch::Tensor x = torch::randn({2, length, 32}, torch::requires_grad());
    const torch::Tensor fast = attention(x);
    const torch::Tensor naive = attention->forward_naive(x);
    EXPECT_LT((fast - naive).abs().max().item<float>(), 1e-5) << length;
    // And the gradients, of the input and of the relative table.
    const torch::Tensor w = torch::randn_like(fast);
    const auto g_fast = torch::autograd::grad({(fast * w).sum()}, {x, attention->named_parameters()["relative"]});
    const auto g_naive = torch::autograd::grad({(naive * w).sum()}, {x, attention->named_parameters()["relative"]});
    for (size_t i = 0; i < 2; ++i) {
      EXPECT_LT((g_fast[i] - g_naive[i]).abs().max().item<float>(), 1e-5) << length << " grad " << i;
    }
  }
}

ModelSpec transformer_spec() {
  ModelSpec s = preset("tiny", "satb16");
  s.transformer.absolute_positions = true;  // everything on
  s.transformer.max_relative = 8;           // shorter than the test sequences
  return s;
}

TEST(Model, TransformerIsCausal) {
  torch::manual_seed(1);
  SequenceModel m = build_model(transformer_spec());
  m->eval();
  torch::Tensor tokens = torch::randint(4, 50, {2, 24}, torch::kInt64);
  const torch::Tensor before = m->forward(tokens);
  tokens.index_put_({torch::indexing::Slice(), torch::indexing::Slice(12)}, 7);
  const torch::Tensor after = m->forward(tokens);
  using torch::indexing::Slice;
  EXPECT_LT((before.index({Slice(), Slice(0, 12)}) - after.index({Slice(), Slice(0, 12)})).abs().max().item<float>(), 1e-6);
  EXPECT_GT((before.index({Slice(), Slice(12)}) - after.index({Slice(), Slice(12)})).abs().max().item<float>(), 1e-3);
}

// batch 1 takes the single-row (gemv) paths of both models' steps.
void expect_step_equals_forward(const ModelSpec& spec, int64_t offset, int64_t batch = 3) {
  torch::manual_seed(2);
  SequenceModel m = build_model(spec);
  m->eval();
  torch::NoGradGuard no_grad;
  const int64_t t = 30;
  const torch::Tensor tokens = torch::randint(4, m->vocab_size(), {batch, t}, torch::kInt64);
  const torch::Tensor full = m->forward(tokens, torch::full({batch}, offset, torch::kInt64));  // (B, T, V)
  DecodeState state;
  state.offset = offset;
  for (int64_t i = 0; i < t; ++i) {
    const torch::Tensor logits = m->step(tokens.index({torch::indexing::Slice(), torch::indexing::Slice(i, i + 1)}), state);
    EXPECT_LT((logits - full.index({torch::indexing::Slice(), i})).abs().max().item<float>(), 1e-4)
        << model_kind_name(spec.kind) << " position " << i;
  }
  EXPECT_EQ(state.length, t);
}

TEST(Model, CachedStepsEqualTheFullForward) {
  expect_step_equals_forward(transformer_spec(), 0);
  expect_step_equals_forward(transformer_spec(), 5);  // a window that starts mid-piece
  ModelSpec plain = transformer_spec();
  plain.transformer.relative = false;
  plain.transformer.tie_embeddings = false;
  expect_step_equals_forward(plain, 0);
  expect_step_equals_forward(preset("lstm-tiny", "performance388"), 0);
  expect_step_equals_forward(preset("lstm-tiny", "performance388"), 0, /*batch=*/1);
  expect_step_equals_forward(preset("lstm-base", "satb16"), 0, /*batch=*/1);
  expect_step_equals_forward(transformer_spec(), 5, /*batch=*/1);
}

TEST(Model, PresetsHaveTheirSizes) {
  // tiny on satb16, by hand: token embedding 50x32 = 1600, voice embedding 4x32 = 128; per
  // block: 2 norms 2x64, qkv 32x96+96 = 3168, out 32x32+32 = 1056, relative table 64x16 = 1024,
  // ff 32x64+64 = 2112 and 64x32+32 = 2080, so 9568 x 2 blocks; final norm 64. Tied output.
  EXPECT_EQ(build_model(preset("tiny", "satb16"))->parameter_count(), 1600 + 128 + 2 * 9568 + 64);
  // The rest from the formulas of docs/model.md, evaluated independently (Python).
  EXPECT_EQ(build_model(preset("jsb-base", "satb16"))->parameter_count(), 4851200);
  EXPECT_EQ(build_model(preset("performance-base", "performance388"))->parameter_count(), 19508736);
  EXPECT_EQ(build_model(preset("lstm-tiny", "satb16"))->parameter_count(), 63218);
  EXPECT_EQ(build_model(preset("lstm-base", "satb16"))->parameter_count(), 5817906);
  const ModelSpec base = preset("jsb-base", "satb16");
  EXPECT_EQ(base.transformer.layers, 6);
  EXPECT_EQ(base.transformer.voice_period, 4);
  EXPECT_EQ(preset("performance-base", "performance388").transformer.voice_period, 0);
  EXPECT_STREQ(model_kind_name(preset("lstm-base", "satb16").kind), "music-lstm");
  EXPECT_THROW(preset("huge", "satb16"), std::invalid_argument);
  EXPECT_THROW(preset("tiny", "remi"), std::invalid_argument);
}

TEST(Model, SavedModelsLoadToIdenticalOutputs) {
  torch::manual_seed(3);
  for (const std::string& name : {std::string("tiny"), std::string("lstm-tiny")}) {
    const ModelSpec spec = preset(name, "satb16-onset");
    SequenceModel m = build_model(spec);
    m->eval();
    const std::string path = testing::temp_path("model_" + name + ".pt");
    save_model(path, spec, *m);
    const LoadedModel loaded = load_model(path, "satb16-onset");
    EXPECT_EQ(spec_to_json(loaded.spec), spec_to_json(spec));
    const torch::Tensor tokens = torch::randint(4, 96, {2, 17}, torch::kInt64);
    EXPECT_TRUE(torch::equal(m->forward(tokens), loaded.model->forward(tokens))) << name;
    // The wrong vocabulary is refused, naming both.
    try {
      load_model(path, "satb16");
      ADD_FAILURE() << "vocab mismatch accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("vocabulary satb16-onset, not satb16"), std::string::npos) << e.what();
    }
  }
}

TEST(Model, DamagedOrForeignFilesAreRefused) {
  const std::string garbage = testing::temp_path("model_garbage.pt");
  std::ofstream(garbage) << "not a model";
  EXPECT_THROW(load_model(garbage), std::runtime_error);
  EXPECT_THROW(load_model(testing::temp_path("model_missing.pt")), std::runtime_error);
  // A LibTorch archive that is not a bachgen model.
  const std::string foreign = testing::temp_path("model_foreign.pt");
  torch::serialize::OutputArchive a;
  a.write("x", torch::ones({2}));
  a.save_to(foreign);
  try {
    load_model(foreign);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("not a bachgen model file"), std::string::npos);
  }
  // A truncated model file.
  const ModelSpec spec = preset("tiny", "satb16");
  SequenceModel m = build_model(spec);
  const std::string path = testing::temp_path("model_truncated.pt");
  save_model(path, spec, *m);
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(path, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  EXPECT_THROW(load_model(path), std::runtime_error);
}

}  // namespace
}  // namespace bachgen::model
