// The models: skew relative attention equals the naive O(L^2 D) form (also past the maximum
// distance), causality, cached incremental decoding equals the full forward for both models,
// and model files that load to identical outputs and refuse what they are not.
#include <gtest/gtest.h>

#include <fstream>

#include "bachgen/model/model_file.h"
#include "bachgen/tokenize/conditions.h"
#include "midi_bytes.h"

namespace bachgen::model {
namespace {

// Causal and bidirectional (the conditioning model's): the skew equals the naive gather,
// forward and backward.
TEST(Model, SkewAttentionEqualsNaiveRelativeAttention) {
  for (bool causal : {true, false}) {
    torch::manual_seed(0);
    AttentionOptions o;
    o.d_model = 32;
    o.heads = 4;
    o.max_relative = 16;
    o.dropout = 0.0;
    o.causal = causal;
    RelativeSelfAttention attention(o);
    attention->eval();
    EXPECT_EQ(attention->named_parameters()["relative"].size(0), causal ? 16 : 31);
    for (int64_t length : {1, 2, 9, 16, 40}) {  // 40 > max_relative: clipped distances
      const torch::Tensor x = torch::randn({2, length, 32}, torch::requires_grad());
      const torch::Tensor fast = attention(x);
      const torch::Tensor naive = attention->forward_naive(x);
      EXPECT_LT((fast - naive).abs().max().item<float>(), 1e-5) << causal << " " << length;
      // And the gradients, of the input and of the relative table.
      const torch::Tensor w = torch::randn_like(fast);
      const auto g_fast = torch::autograd::grad({(fast * w).sum()}, {x, attention->named_parameters()["relative"]});
      const auto g_naive = torch::autograd::grad({(naive * w).sum()}, {x, attention->named_parameters()["relative"]});
      for (size_t i = 0; i < 2; ++i) {
        EXPECT_LT((g_fast[i] - g_naive[i]).abs().max().item<float>(), 1e-5) << causal << " " << length << " grad " << i;
      }
    }
  }
}

// Bidirectional attention sees both ways, and its relative logits tell a note before from one
// after: swapping the order of a sequence is not the same as swapping the outputs.
TEST(Model, BidirectionalRelativeAttentionSeesBothWays) {
  torch::manual_seed(3);
  AttentionOptions o;
  o.d_model = 16, o.heads = 2, o.max_relative = 8, o.dropout = 0.0, o.causal = false;
  RelativeSelfAttention attention(o);
  attention->eval();
  torch::NoGradGuard no_grad;
  torch::Tensor x = torch::randn({1, 12, 16});
  const torch::Tensor before = attention(x);
  torch::Tensor changed = x.clone();
  changed.index_put_({0, 11}, torch::randn({16}));
  const torch::Tensor after = attention(changed);
  EXPECT_GT((before.index({0, 0}) - after.index({0, 0})).abs().max().item<float>(), 1e-4);  // the first sees the last
  const torch::Tensor reversed = attention(x.flip(1)).flip(1);
  EXPECT_GT((reversed - before).abs().max().item<float>(), 1e-3);
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
  EXPECT_EQ(build_model(preset("compose-tiny", "satb16"))->parameter_count(), 1600 + 128 + 2 * 9568 + 64 + 4 * 32 + 126 * 32);
  // harmonize-tiny (the conditioning model with relative attention and conditions) by hand:
  // variable embedding 4x50x32 = 6400, beat 16x32 = 512, conditions (29 + 72 + 25) x 32; per
  // block 2 norms 128, qkv 3168, out 1056, a relative table both ways (2x16 - 1) x 16 = 496,
  // ff 2112 + 2080, so 9040 x 2; final norm 64; output 32x200 + 200 = 6600.
  EXPECT_EQ(build_model(preset("harmonize-tiny", "satb16"))->parameter_count(), 6400 + 512 + 126 * 32 + 2 * 9040 + 64 + 6600);
  // The rest from the formulas of docs/model.md, evaluated independently (Python).
  EXPECT_EQ(build_model(preset("jsb-base", "satb16"))->parameter_count(), 4851200);
  // jsb-compose by hand: per block 512 + 49,536 + 16,512 + 512 x 32 + 131,712 = 214,656, x 4;
  // embeddings 6,400 + 512 (voice) + 512 (beat) + (29 + 72 + 25) x 128 (conditions); norm 256.
  EXPECT_EQ(build_model(preset("jsb-compose", "satb16"))->parameter_count(), 4 * 214656 + 6400 + 512 + 512 + 126 * 128 + 256);
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

// The tensor form of the condition indices equals tokenize's scalar functions, for every step
// of a piece (the BOS at -1 included) and every kind of condition, known or not.
TEST(Model, ConditionIndicesEqualTheScalarFunctions) {
  const std::vector<tokenize::PieceConditions> rows = {
      {16, 0, 300, 0}, {16, 12, 45, 23}, {12, 8, 70, 12}, {0, 0, 0, -1}, {12, 0, 1, 5}, {24, 3, 100, 30}};
  std::vector<int64_t> flat;
  for (const auto& c : rows) flat.insert(flat.end(), {c.steps_per_bar, c.bar_phase, c.steps, c.key});
  const torch::Tensor conditions = torch::tensor(flat).view({-1, 4});
  const torch::Tensor steps = torch::arange(-1, 330, torch::kInt64).view({1, -1}).expand({static_cast<int64_t>(rows.size()), -1});
  const auto [bar, end, key] = condition_indices(steps, conditions);
  for (size_t r = 0; r < rows.size(); ++r) {
    for (int64_t t = 0; t < steps.size(1); ++t) {
      const int64_t step = t - 1;
      const int64_t i = static_cast<int64_t>(r);
      ASSERT_EQ(bar[i][t].item<int64_t>(), tokenize::bar_index(rows[r], step)) << r << " step " << step;
      ASSERT_EQ(end[i][t].item<int64_t>(), tokenize::end_index(rows[r], step)) << r << " step " << step;
      ASSERT_EQ(key[i][t].item<int64_t>(), tokenize::key_index(rows[r])) << r;
    }
  }
}

// A model with conditions: undefined conditions are the unknown ones, known ones change the
// logits, and a version-2 file loads back to the same outputs (a file without them stays 1).
TEST(Model, ConditionsAreInputsAndFormatVersionTwo) {
  torch::manual_seed(4);
  ModelSpec spec = preset("tiny", "satb16");
  spec.transformer.beat_steps = 4, spec.transformer.conditions = true;
  SequenceModel m = build_model(spec);
  m->eval();
  const torch::Tensor tokens = torch::randint(4, 50, {2, 33}, torch::kInt64);
  const torch::Tensor unknown = torch::tensor({0, 0, 0, -1, 0, 0, 0, -1}, torch::kInt64).view({2, 4});
  const torch::Tensor known = torch::tensor({16, 12, 40, 2, 12, 0, 9, 21}, torch::kInt64).view({2, 4});
  EXPECT_TRUE(torch::allclose(m->forward(tokens), m->forward(tokens, torch::Tensor(), unknown)));
  EXPECT_GT((m->forward(tokens, torch::Tensor(), known) - m->forward(tokens)).abs().max().item<double>(), 1e-4);
  EXPECT_EQ(format_version_for(spec), 2);
  EXPECT_EQ(format_version_for(preset("jsb-meter", "satb16")), 1);
  EXPECT_EQ(format_version_for(preset("jsb-compose", "satb16")), 2);
  const std::string path = testing::temp_path("model_conditions.pt");
  save_model(path, spec, *m);
  const LoadedModel loaded = load_model(path);
  EXPECT_TRUE(loaded.spec.transformer.conditions);
  EXPECT_TRUE(torch::equal(m->forward(tokens, torch::Tensor(), known), loaded.model->forward(tokens, torch::Tensor(), known)));
  // A file from a later format is refused, saying what this program reads.
  torch::serialize::OutputArchive a;
  a.write("bachgen_format", c10::IValue(int64_t{3}));
  a.write("bachgen_spec", c10::IValue(spec_to_json(spec)));
  const std::string newer = testing::temp_path("model_v3.pt");
  a.save_to(newer);
  try {
    load_model(newer);
    ADD_FAILURE() << "a version-3 file loaded";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("model format version 3 is newer than this bachgen reads"), std::string::npos) << what;
    EXPECT_NE(what.find("version 2 added the composer's conditions"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace bachgen::model
