// The fast batch-1 decoder against the models' own LibTorch step: the same logits (fp32
// weights, up to rounding order) for every configuration the presets use and the edge cases
// (relative distances past the table, widths that are not multiples of 8, a cache that grows,
// a start offset); int8 weights close to them; the same logits for any thread count.
#include <gtest/gtest.h>

#include <cmath>

#include "bachgen/generate/sampler.h"
#include "bachgen/model/fast_decode.h"
#include "bachgen/model/model_file.h"
#include "bachgen/model/music_lstm.h"
#include "bachgen/model/music_transformer.h"

namespace bachgen::model {
namespace {

struct Case {
  std::string name;
  ModelSpec spec;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  out.push_back({"tiny", preset("tiny", "satb16")});
  ModelSpec clipped = preset("tiny", "satb16");
  clipped.transformer.max_relative = 12;  // keys farther than 11 steps share the table's last row
  out.push_back({"clipped", clipped});
  ModelSpec odd = preset("tiny", "satb16-onset");
  odd.transformer.d_model = 24, odd.transformer.heads = 2, odd.transformer.d_ff = 36;  // dh 12, rows of 36
  odd.transformer.max_relative = 30;
  out.push_back({"odd-widths", odd});
  ModelSpec plain = preset("tiny", "satb16");
  plain.transformer.relative = false, plain.transformer.absolute_positions = true;
  plain.transformer.tie_embeddings = false, plain.transformer.voice_period = 0;
  out.push_back({"absolute-untied", plain});
  ModelSpec beat = preset("tiny", "satb16");
  beat.transformer.beat_steps = 4;  // the 16th within the beat (offsets 0 and 5 below: both phases)
  out.push_back({"beat", beat});
  ModelSpec conditioned = beat;
  conditioned.transformer.conditions = true;  // unknown conditions here; ConditionsMatch... sets them
  out.push_back({"conditions", conditioned});
  out.push_back({"lstm-tiny", preset("lstm-tiny", "satb16")});
  ModelSpec lstm = preset("lstm-tiny", "satb16");
  lstm.lstm.d_embed = 10, lstm.lstm.hidden = 12, lstm.lstm.layers = 3;  // blocks of 1 unit
  out.push_back({"lstm-odd", lstm});
  return out;
}

SequenceModel build(const ModelSpec& spec) {
  torch::manual_seed(3);
  SequenceModel m = build_model(spec);
  m->eval();
  // Biases and norms away from their 1/0 start, so that every parameter matters.
  torch::NoGradGuard no_grad;
  for (auto& p : m->named_parameters()) {
    if (p.key().find("bias") != std::string::npos || p.key().find("norm") != std::string::npos) {
      p.value().add_(torch::randn_like(p.value()) * 0.3);
    }
  }
  return m;
}

std::vector<int32_t> random_tokens(int64_t vocab, int n, uint64_t seed) {
  generate::Rng rng(seed);
  std::vector<int32_t> t = {1};
  while (static_cast<int>(t.size()) < n) t.push_back(3 + static_cast<int32_t>(rng.next() % static_cast<uint64_t>(vocab - 3)));
  return t;
}

// Logits of every step through the LibTorch step, (n, V).
torch::Tensor torch_logits(SequenceModelImpl& m, const std::vector<int32_t>& tokens, int64_t offset) {
  torch::InferenceMode guard;
  DecodeState state;
  state.offset = offset;
  std::vector<torch::Tensor> rows;
  for (int32_t t : tokens) rows.push_back(m.step(torch::full({1, 1}, t, torch::kInt64), state).squeeze(0));
  return torch::stack(rows);
}

torch::Tensor fast_logits(FastDecoder& d, const std::vector<int32_t>& tokens, int64_t offset, int64_t capacity) {
  d.reset(offset, capacity);
  std::vector<torch::Tensor> rows;
  for (int32_t t : tokens) rows.push_back(torch::from_blob(const_cast<float*>(d.step(t)), {d.vocab_size()}).clone());
  return torch::stack(rows);
}

TEST(FastDecode, MatchesTheLibTorchStep) {
  for (const Case& c : cases()) {
    SequenceModel m = build(c.spec);
    const auto tokens = random_tokens(m->vocab_size(), 150, 7);
    const auto fast = make_fast_decoder(*m, DecodeWeights::kFp32);
    ASSERT_NE(fast, nullptr) << c.name;
    for (const int64_t offset : {int64_t{0}, int64_t{5}}) {
      const torch::Tensor expected = torch_logits(*m, tokens, offset);
      // A small first capacity: the cache grows twice on the way (64 -> 128 -> 256).
      const torch::Tensor got = fast_logits(*fast, tokens, offset, 1);
      const double scale = 1.0 + expected.abs().max().item<double>();
      EXPECT_LT((got - expected).abs().max().item<double>(), 2e-5 * scale) << c.name << " offset " << offset;
      EXPECT_EQ(fast->length(), 150) << c.name;
    }
  }
}

// A piece's conditions (tokenize/conditions.h) set on both decoders: the same logits, and
// other logits than with nothing known.
TEST(FastDecode, ConditionsMatchTheLibTorchStep) {
  ModelSpec spec = preset("tiny", "satb16");
  spec.transformer.beat_steps = 4, spec.transformer.conditions = true;
  SequenceModel m = build(spec);
  {
    torch::NoGradGuard no_grad;  // condition embeddings as large as the token embedding's rows
    for (auto& p : m->named_parameters()) {
      if (p.key().find("bar_") == 0 || p.key().find("end_") == 0 || p.key().find("key_") == 0) p.value().normal_(0.0, 0.5);
    }
  }
  const auto tokens = random_tokens(m->vocab_size(), 140, 9);
  const auto fast = make_fast_decoder(*m, DecodeWeights::kFp32);
  ASSERT_NE(fast, nullptr);
  const torch::Tensor unknown = fast_logits(*fast, tokens, 0, 16);
  for (const tokenize::PieceConditions c : {tokenize::PieceConditions{16, 12, 40, 14}, tokenize::PieceConditions{12, 8, 300, 3},
                                            tokenize::PieceConditions{0, 0, 30, -1}}) {
    torch::Tensor expected;
    {
      torch::InferenceMode guard;
      DecodeState state;
      state.conditions = torch::tensor({c.steps_per_bar, c.bar_phase, c.steps, c.key}, torch::kInt64).view({1, 4});
      std::vector<torch::Tensor> rows;
      for (int32_t t : tokens) rows.push_back(m->step(torch::full({1, 1}, t, torch::kInt64), state).squeeze(0));
      expected = torch::stack(rows);
      // The whole-window forward pass reads the same conditions the same way.
      std::vector<int64_t> ids(tokens.begin(), tokens.end());
      const torch::Tensor forward = m->forward(torch::tensor(ids).view({1, -1}), torch::Tensor(), state.conditions).squeeze(0);
      EXPECT_LT((forward - expected).abs().max().item<double>(), 1e-4) << tokenize::describe(c);
    }
    fast->set_conditions(c);
    const torch::Tensor got = fast_logits(*fast, tokens, 0, 16);
    const double scale = 1.0 + expected.abs().max().item<double>();
    EXPECT_LT((got - expected).abs().max().item<double>(), 2e-5 * scale) << tokenize::describe(c);
    EXPECT_GT((got - unknown).abs().max().item<double>(), 1e-3) << tokenize::describe(c) << ": the conditions changed nothing";
  }
  fast->set_conditions({});
  EXPECT_LT((fast_logits(*fast, tokens, 0, 16) - unknown).abs().max().item<double>(), 1e-6);
}

TEST(FastDecode, Int8WeightsStayClose) {
  for (const Case& c : cases()) {
    SequenceModel m = build(c.spec);
    const auto tokens = random_tokens(m->vocab_size(), 150, 8);
    const auto fast = make_fast_decoder(*m, DecodeWeights::kInt8);
    ASSERT_NE(fast, nullptr) << c.name;
    const torch::Tensor expected = torch::log_softmax(torch_logits(*m, tokens, 0), -1);
    const torch::Tensor got = torch::log_softmax(fast_logits(*fast, tokens, 0, 200), -1);
    const double kl = (expected.exp() * (expected - got)).sum(-1).mean().item<double>();
    EXPECT_LT(kl, 1e-3) << c.name;
    EXPECT_GT((got - expected).abs().max().item<double>(), 0.0) << c.name << ": int8 changed nothing";
    const auto fp32 = make_fast_decoder(*m, DecodeWeights::kFp32);
    // The condition tables stay fp32 (they are looked up, not multiplied): a bit more there.
    EXPECT_LT(fast->weight_bytes(), fp32->weight_bytes() * (c.name == "conditions" ? 6 : 5) / 10) << c.name;
  }
}

TEST(FastDecode, PortableLoopsMatchTheAvx2Kernels) {
  if (!fast_decode_uses_avx2()) GTEST_SKIP() << "no AVX2 here: the portable loops are what MatchesTheLibTorchStep checked";
  for (const Case& c : cases()) {
    SequenceModel m = build(c.spec);
    const auto tokens = random_tokens(m->vocab_size(), 100, 10);
    const auto avx2 = make_fast_decoder(*m, DecodeWeights::kFp32);
    const auto avx2_int8 = make_fast_decoder(*m, DecodeWeights::kInt8);
    fast_decode_use_avx2(false);
    const auto portable = make_fast_decoder(*m, DecodeWeights::kFp32);
    const auto portable_int8 = make_fast_decoder(*m, DecodeWeights::kInt8);
    const torch::Tensor expected = fast_logits(*portable, tokens, 0, 64);
    const torch::Tensor expected_int8 = fast_logits(*portable_int8, tokens, 0, 64);
    fast_decode_use_avx2(true);
    const double scale = 1.0 + expected.abs().max().item<double>();
    EXPECT_LT((fast_logits(*avx2, tokens, 0, 64) - expected).abs().max().item<double>(), 2e-5 * scale) << c.name;
    // int8 with the AVX2 kernels also keeps its cache in fp16.
    EXPECT_LT((fast_logits(*avx2_int8, tokens, 0, 64) - expected_int8).abs().max().item<double>(), 2e-2 * scale) << c.name;
  }
}

TEST(FastDecode, LogitsDoNotDependOnTheThreadCount) {
  const int before = at::get_num_threads();
  for (const Case& c : cases()) {
    for (const DecodeWeights w : {DecodeWeights::kFp32, DecodeWeights::kInt8}) {
      SequenceModel m = build(c.spec);
      const auto tokens = random_tokens(m->vocab_size(), 40, 9);
      at::set_num_threads(1);
      const auto one = make_fast_decoder(*m, w);
      at::set_num_threads(3);
      const auto three = make_fast_decoder(*m, w);
      at::set_num_threads(before);
      EXPECT_TRUE(torch::equal(fast_logits(*one, tokens, 0, 64), fast_logits(*three, tokens, 0, 64))) << c.name;
    }
  }
}

TEST(FastDecode, ASecondSequenceStartsAfresh) {
  for (const Case& c : cases()) {
    SequenceModel m = build(c.spec);
    const auto fast = make_fast_decoder(*m, DecodeWeights::kFp32);
    const auto a = random_tokens(m->vocab_size(), 30, 1), b = random_tokens(m->vocab_size(), 30, 2);
    const torch::Tensor first = fast_logits(*fast, b, 0, 64);
    fast_logits(*fast, a, 0, 64);
    EXPECT_TRUE(torch::equal(fast_logits(*fast, b, 0, 64), first)) << c.name;
  }
}

TEST(FastDecode, ScoresASequenceAsItsLogitsSay) {
  SequenceModel m = build(preset("tiny", "satb16"));
  const auto fast = make_fast_decoder(*m, DecodeWeights::kFp32);
  const auto tokens = random_tokens(m->vocab_size(), 20, 4);
  const torch::Tensor lp = torch::log_softmax(torch_logits(*m, tokens, 0), -1);
  double expected = 0;
  int64_t correct = 0;
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    expected -= lp[static_cast<int64_t>(i)][tokens[i + 1]].item<double>();
    correct += lp[static_cast<int64_t>(i)].argmax().item<int64_t>() == tokens[i + 1];
  }
  const SequenceScore score = score_sequence(*fast, tokens.data(), tokens.size());
  EXPECT_NEAR(score.nll, expected, 1e-4);
  EXPECT_EQ(score.correct, correct);
  EXPECT_EQ(score.count, 19);
  EXPECT_EQ(score_sequence(*fast, tokens.data(), 1).count, 0);
  // From another start: the positions (the voice embedding here) move with it.
  const torch::Tensor shifted = torch::log_softmax(torch_logits(*m, tokens, 3), -1);
  double expected_shifted = 0;
  for (size_t i = 0; i + 1 < tokens.size(); ++i) expected_shifted -= shifted[static_cast<int64_t>(i)][tokens[i + 1]].item<double>();
  EXPECT_NEAR(score_sequence(*fast, tokens.data(), tokens.size(), 3).nll, expected_shifted, 1e-4);
  EXPECT_GT(std::abs(expected_shifted - expected), 1e-3);
}

TEST(FastDecode, RefusesWhatItCannotDecode) {
  SequenceModel m = build(preset("tiny", "satb16"));
  const auto fast = make_fast_decoder(*m, DecodeWeights::kFp32);
  fast->reset(0, 8);
  EXPECT_THROW(fast->step(-1), std::out_of_range);
  EXPECT_THROW(fast->step(static_cast<int32_t>(m->vocab_size())), std::out_of_range);
  EXPECT_EQ(fast->length(), 0);
  // The conditioning model reads the whole grid at once: no causal step to speed up.
  SequenceModel infill = build_model(preset("infill-tiny", "satb16"));
  EXPECT_EQ(make_fast_decoder(*infill, DecodeWeights::kFp32), nullptr);
  // Weights that do not fit their shapes are refused, not read out of bounds.
  FastLstmWeights lstm;
  lstm.vocab = 5, lstm.d_embed = 4, lstm.hidden = 8, lstm.layers = 1;
  lstm.embedding.assign(20, 0.0f);
  EXPECT_THROW(make_fast_lstm(lstm, DecodeWeights::kFp32), std::invalid_argument);
  FastTransformerWeights t;
  t.vocab = 5, t.d_model = 8, t.layers = 1, t.heads = 2, t.d_ff = 16, t.max_relative = 4;
  t.token_embedding.assign(40, 0.0f);
  EXPECT_THROW(make_fast_transformer(t, DecodeWeights::kFp32), std::invalid_argument);
  EXPECT_EQ(parse_decode_weights("int8"), DecodeWeights::kInt8);
  EXPECT_EQ(parse_decode_weights("fp32"), DecodeWeights::kFp32);
  EXPECT_THROW(parse_decode_weights("int4"), std::invalid_argument);
}

}  // namespace
}  // namespace bachgen::model
