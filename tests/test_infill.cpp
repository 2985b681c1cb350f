// The conditioning model and what uses it: hidden-variable examples, a bidirectional forward
// pass, the learning test, both harmonization scores against a hand computation, the
// ancestral sampler keeping every given variable, and the harmonize / infill commands.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "bachgen/data/infill_dataset.h"
#include "bachgen/data/token_shard.h"
#include "bachgen/generate/errors.h"
#include "bachgen/commands/harmonize_command.h"
#include "bachgen/generate/harmonizer.h"
#include "bachgen/generate/infill.h"
#include "bachgen/generate/infill_selection.h"
#include "bachgen/model/infill_order.h"
#include "bachgen/midi/midi_reader.h"
#include "bachgen/midi/midi_writer.h"
#include "bachgen/model/chorale_infill.h"
#include "bachgen/commands/model_commands.h"
#include "bachgen/model/model_file.h"
#include "bachgen/music/melody.h"
#include "bachgen/music/score.h"
#include "bachgen/music/voice_leading.h"
#include "bachgen/tokenize/satb16.h"
#include "bachgen/train/evaluate.h"
#include "bachgen/train/trainer.h"
#include "cli_run.h"

namespace bachgen::generate {
namespace {

using commands::HarmonizeSettings;
using commands::InfillReport;
using commands::InfillSettings;
using commands::run_harmonize;
using commands::run_infill;
using model::infill_schedule;
using music::kSilent;
using tokenize::ChoraleTokens;

// Patterned four-voice pieces (satb16): 6 pieces of 24 steps.
data::TokenShard patterned_shard() {
  data::TokenShard shard;
  shard.vocab = tokenize::VocabId::kSatb16;
  for (int p = 0; p < 6; ++p) {
    std::vector<int32_t> t = {ChoraleTokens::kBos};
    for (int step = 0; step < 24; ++step) {
      const int base = 60 + (p + step / 2) % 7;
      for (int v : {base + 12, base + 7, base + 4, base - 12}) t.push_back(tokenize::Satb16Vocab::pitch_token(v));
    }
    t.push_back(ChoraleTokens::kEos);
    shard.add_piece(t);
  }
  return shard;
}

std::string write_data() {
  const std::string dir = testing::test_file("data");
  std::system(("rm -rf '" + dir + "' && mkdir -p '" + dir + "'").c_str());
  for (const char* split : {"train", "valid", "test"}) data::write_shard(dir + "/" + split + ".tokens", patterned_shard());
  return dir;
}

model::SequenceModel tiny_infill() {
  torch::manual_seed(3);
  return model::build_model(model::preset("infill-tiny", "satb16"));
}

TEST(InfillDataset, ExamplesAreWholeStepsWithValidHiddenSets) {
  auto shard = std::make_shared<const data::TokenShard>(patterned_shard());
  data::WindowOptions o;
  o.length = 32;
  o.seed = 9;
  o.augment = false;
  data::InfillDataset ds(shard, o);
  int patterns[3] = {0, 0, 0};
  for (size_t i = 0; i < 300; ++i) {
    const data::InfillExample ex = ds.example(i);
    ASSERT_EQ(ex.tokens.size(), 32u);
    ASSERT_EQ(ex.start % 4, 0u);
    EXPECT_EQ(ds.example(i).hidden, ex.hidden);  // a pure function of (seed, index)
    // The tokens are the piece's grid from `start` (no BOS), EOS past its end, never hidden.
    size_t piece = 0;
    bool found = false;
    for (; piece < shard->pieces() && !found; ++piece) {
      const uint16_t* t = shard->piece(piece) + 1 + ex.start;
      size_t k = 0;
      while (k < 32 && ex.tokens[k] != ChoraleTokens::kEos && t[k] == ex.tokens[k]) ++k;
      found = k == 32 || ex.tokens[k] == ChoraleTokens::kEos;
    }
    ASSERT_TRUE(found) << i;
    int hidden = 0;
    for (size_t k = 0; k < 32; ++k) {
      if (ex.tokens[k] == ChoraleTokens::kEos) {
        EXPECT_FALSE(ex.hidden[k]);
      }
      hidden += ex.hidden[k];
      if (ex.pattern == data::HidePattern::kHarmonize && k % 4 == 0) {
        EXPECT_FALSE(ex.hidden[k]) << "the soprano is given";
      }
    }
    EXPECT_GE(hidden, 1);
    ++patterns[static_cast<int>(ex.pattern)];
  }
  for (int n : patterns) EXPECT_GT(n, 30);  // all three patterns occur (1/2, 3/10, 1/5)
  const data::TokenBatch b = ds.get_batch({0, 1, 2});
  EXPECT_EQ(b.input.sizes(), (std::vector<int64_t>{3, 32}));
  // Where hidden: input PAD, mask 1, target the token.
  const data::InfillExample ex0 = ds.example(0);
  for (int64_t k = 0; k < 32; ++k) {
    EXPECT_EQ(b.mask[0][k].item<float>(), ex0.hidden[static_cast<size_t>(k)] ? 1.0f : 0.0f);
    EXPECT_EQ(b.input[0][k].item<int64_t>(), ex0.hidden[static_cast<size_t>(k)] ? ChoraleTokens::kPad : ex0.tokens[static_cast<size_t>(k)]);
    EXPECT_EQ(b.target[0][k].item<int64_t>(), ex0.tokens[static_cast<size_t>(k)]);
  }
  // Only satb16 and whole steps.
  o.length = 30;
  EXPECT_THROW(data::InfillDataset(shard, o), std::invalid_argument);
}

TEST(ChoraleInfill, SeesBothDirectionsAndRefusesToStep) {
  model::SequenceModel m = tiny_infill();
  m->eval();
  torch::NoGradGuard no_grad;
  torch::Tensor tokens = torch::randint(4, 50, {1, 32}, torch::kInt64);
  const torch::Tensor a = m->forward(tokens);
  EXPECT_EQ(a.sizes(), (std::vector<int64_t>{1, 32, 50}));
  torch::Tensor later = tokens.clone();
  later[0][31] = ChoraleTokens::kPad;  // the last bass note hidden
  const torch::Tensor b = m->forward(later);
  EXPECT_GT((a[0][0] - b[0][0]).abs().max().item<double>(), 1e-6) << "step 0 must see step 7";
  EXPECT_THROW(m->forward(torch::zeros({1, 30}, torch::kInt64)), c10::Error);  // not whole steps
  model::DecodeState state;
  EXPECT_THROW(m->step(torch::zeros({1, 1}, torch::kInt64), state), std::logic_error);
  EXPECT_THROW(model::build_model(model::preset("jsb-infill", "satb16-onset")), std::invalid_argument);
}

// 150 steps of a tiny conditioning model on the patterned data, in `run` under the test files.
train::TrainSettings tiny_training(const std::string& data, const std::string& preset, const std::string& run) {
  train::TrainSettings s;
  s.data = data;
  s.out = testing::test_file(run);
  std::system(("rm -rf '" + s.out + "'").c_str());
  s.preset = preset;
  s.batch = 8;
  s.length = 32;
  s.steps = 150;
  s.warmup = 5;
  s.lr = 5e-3;
  s.eval_every = 0;
  s.checkpoint_every = 0;
  s.dropout = 0;
  s.precision = "fp32";
  s.quiet = true;
  s.augment = false;
  return s;
}

// Trains it (the loss must fall by half) and loads its best checkpoint.
model::LoadedModel trained(const train::TrainSettings& s) {
  const train::TrainResult r = train_model(s);
  EXPECT_LT(r.last_loss, r.first_loss / 2) << s.preset << ": " << r.first_loss << " -> " << r.last_loss;
  return model::load_model(train::best_checkpoint_path(s.out));
}

TEST(ChoraleInfill, LearnsAndScoresHarmonizationsAsByHand) {
  const std::string data = write_data();
  const train::TrainSettings s = tiny_training(data, "infill-tiny", "run");
  const model::LoadedModel loaded = trained(s);
  EXPECT_STREQ(model::model_kind_name(loaded.spec.kind), "chorale-infill");

  // The scores by hand for the first piece alone.
  data::TokenShard one;
  one.vocab = tokenize::VocabId::kSatb16;
  const data::TokenShard all = patterned_shard();
  one.add_piece(std::vector<int32_t>(all.piece(0), all.piece(0) + all.piece_length(0)));
  const std::vector<int32_t> grid(all.piece(0) + 1, all.piece(0) + all.piece_length(0) - 1);  // 96 tokens
  torch::NoGradGuard no_grad;
  auto log_prob = [&](const std::vector<int32_t>& input, size_t i) {
    std::vector<int64_t> in(input.begin(), input.end());
    const torch::Tensor lp = torch::log_softmax(loaded.model->forward(torch::tensor(in).view({1, -1})).to(torch::kFloat64), -1);
    return lp[0][static_cast<int64_t>(i)][grid[i]].item<double>();
  };
  double mean_field = 0, chained = 0;
  std::vector<int32_t> atb_hidden = grid;
  for (size_t i = 0; i < grid.size(); ++i) {
    if (i % 4) atb_hidden[i] = ChoraleTokens::kPad;
  }
  for (size_t i = 0; i < grid.size(); ++i) {
    if (i % 4) mean_field -= log_prob(atb_hidden, i);
  }
  // Chained: the sampler's order for piece 0 (Rng(1)), one chunk per step.
  std::vector<size_t> variables;
  for (size_t i = 0; i < grid.size(); ++i) {
    if (i % 4) variables.push_back(i);
  }
  Rng rng(1);
  const std::vector<std::vector<size_t>> chunks = infill_schedule(variables, 24, rng);
  ASSERT_EQ(chunks.size(), 24u);
  std::vector<int32_t> row = atb_hidden;
  for (const std::vector<size_t>& chunk : chunks) {
    EXPECT_EQ(chunk.size(), 3u);
    for (size_t i : chunk) chained -= log_prob(row, i);
    for (size_t i : chunk) row[i] = grid[i];
  }
  // In time: step by step, A T B within a step, each given S and everything before it.
  double in_time = 0;
  row = atb_hidden;
  for (size_t i = 0; i < grid.size(); ++i) {
    if (i % 4 == 0) continue;
    in_time -= log_prob(row, i);
    row[i] = grid[i];
  }
  const train::EvalResult e = train::evaluate_harmonization(*loaded.model, one, true);
  EXPECT_EQ(e.tokens, 72);
  EXPECT_NEAR(e.nll_mean_field, mean_field / 72, 1e-5);
  EXPECT_NEAR(e.nll_chained, chained / 72, 1e-5);
  EXPECT_NEAR(e.nll_in_time, in_time / 72, 1e-5);
  EXPECT_GT(e.accuracy_in_time, 0.0);
  // In time alone: the same figure, and then it is the result's NLL.
  const train::EvalResult only = train::evaluate_harmonization(*loaded.model, one, true, nullptr, /*sampler_order=*/false);
  EXPECT_DOUBLE_EQ(only.nll_in_time, e.nll_in_time);
  EXPECT_DOUBLE_EQ(only.nll_per_token, e.nll_in_time);
  EXPECT_EQ(only.nll_chained, 0.0);
  EXPECT_NEAR(e.nll_per_token, e.nll_chained, 1e-12);
  // `bachgen eval` reports both for a conditioning model.
  const testing::CliResult cli = testing::run_command(BACHGEN_CLI, "eval --model '" + train::best_checkpoint_path(s.out) +
                                                                       "' --data '" + data + "' --split valid");
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_NE(cli.out.find("mean field"), std::string::npos) << cli.out;
  EXPECT_NE(cli.out.find("chained in the sampler's order"), std::string::npos) << cli.out;
  EXPECT_NE(cli.out.find("in time (step by step"), std::string::npos) << cli.out;
  const testing::CliResult in_time_cli = testing::run_command(BACHGEN_CLI, "eval --in-time --model '" + train::best_checkpoint_path(s.out) +
                                                                           "' --data '" + data + "' --split valid");
  EXPECT_EQ(in_time_cli.exit_code, 0) << in_time_cli.err;
  EXPECT_EQ(in_time_cli.out.find("sampler's order"), std::string::npos) << in_time_cli.out;
  EXPECT_NE(in_time_cli.out.find("in time (step by step"), std::string::npos) << in_time_cli.out;
  // A model without conditions cannot be told them.
  const testing::CliResult known = testing::run_command(BACHGEN_CLI, "eval --model '" + train::best_checkpoint_path(s.out) +
                                                                         "' --data '" + data + "' --split valid --conditions known");
  EXPECT_NE(known.exit_code, 0);
  EXPECT_NE(known.err.find("has no conditions"), std::string::npos) << known.err;
}

// jsb-harmonize's kind in small: relative attention both ways and the piece's conditions. It
// learns; its file is format version 2 and loads as it was saved; what it is told of the piece
// changes what it predicts; its batches carry each piece's conditions; eval tells it them.
TEST(ChoraleInfill, TheRelativeConditionedModelLearnsAndHearsItsConditions) {
  const std::string data = write_data();
  const train::TrainSettings s = tiny_training(data, "harmonize-tiny", "run-harmonize");
  const model::LoadedModel loaded = trained(s);
  EXPECT_TRUE(loaded.spec.transformer.relative);
  EXPECT_TRUE(loaded.spec.transformer.conditions);
  EXPECT_FALSE(loaded.spec.transformer.absolute_positions);
  EXPECT_EQ(model::format_version_for(loaded.spec), 2);

  torch::NoGradGuard no_grad;
  loaded.model->eval();
  const torch::Tensor tokens = torch::randint(4, 50, {1, 32}, torch::kInt64);
  const torch::Tensor unknown = loaded.model->forward(tokens);
  const torch::Tensor told = loaded.model->forward(tokens, torch::Tensor(), torch::tensor({12, 4, 8, 14}, torch::kInt64).view({1, 4}));
  EXPECT_GT((unknown - told).abs().max().item<double>(), 1e-4);
  // Unknown given explicitly is the same as nothing given.
  const torch::Tensor none = loaded.model->forward(tokens, torch::Tensor(), torch::tensor({0, 0, 0, -1}, torch::kInt64).view({1, 4}));
  EXPECT_LT((unknown - none).abs().max().item<double>(), 1e-6);

  auto shard = std::make_shared<const data::TokenShard>(patterned_shard());
  data::WindowOptions o;
  o.length = 32;
  o.seed = 9;
  o.augment = false;
  EXPECT_FALSE(data::InfillDataset(shard, o).get_batch({0, 1}).conditions.defined());
  o.conditions.assign(shard->pieces(), tokenize::PieceConditions{12, 0, 24, 3});
  const data::TokenBatch b = data::InfillDataset(shard, o).get_batch({0, 1});
  ASSERT_TRUE(b.conditions.defined());
  EXPECT_EQ(b.conditions.sizes(), (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(b.conditions[1][0].item<int64_t>(), 12);
  EXPECT_EQ(b.conditions[1][3].item<int64_t>(), 3);

  const std::vector<tokenize::PieceConditions> each(shard->pieces(), tokenize::PieceConditions{16, 0, 24, 0});
  const train::EvalResult plain = train::evaluate_harmonization(*loaded.model, *shard, true);
  const train::EvalResult known = train::evaluate_harmonization(*loaded.model, *shard, true, &each);
  EXPECT_TRUE(std::isfinite(known.nll_in_time));
  EXPECT_NE(plain.nll_in_time, known.nll_in_time);
  const testing::CliResult cli = testing::run_command(BACHGEN_CLI, "eval --json --model '" + train::best_checkpoint_path(s.out) +
                                                                       "' --data '" + data + "' --split valid --conditions known");
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_NE(cli.out.find("\"nll_in_time\""), std::string::npos) << cli.out;
}

music::ChoraleGrid jsb_like_grid(size_t steps) {
  music::ChoraleGrid g;
  for (size_t t = 0; t < steps; ++t) {
    const int8_t base = static_cast<int8_t>(60 + (t / 4) % 5);
    g.pitches.push_back({static_cast<int8_t>(base + 12), static_cast<int8_t>(base + 4), static_cast<int8_t>(base - 5),
                         static_cast<int8_t>(base - 12)});
  }
  return g;
}

TEST(Infill, KeepsWhatIsGivenAndDrawsTheRestInRange) {
  model::SequenceModel m = tiny_infill();
  const music::ChoraleGrid grid = jsb_like_grid(32);
  std::vector<std::array<bool, 4>> regenerate(32, {false, false, false, false});
  for (size_t t = 8; t < 20; ++t) regenerate[t] = {false, true, true, true};
  regenerate[25] = {true, false, false, false};
  InfillOptions o;
  o.seed = 4;
  o.sampling.temperature = 1.5;
  InfillStats st;
  const music::ChoraleGrid out = infill_grid(*m, grid, regenerate, o, &st);
  EXPECT_EQ(st.variables, 37);
  EXPECT_EQ(st.passes, 32);  // one per step
  for (size_t t = 0; t < 32; ++t) {
    for (int v = 0; v < 4; ++v) {
      const int8_t p = out.pitches[t][static_cast<size_t>(v)];
      if (!regenerate[t][static_cast<size_t>(v)]) {
        EXPECT_EQ(p, grid.pitches[t][static_cast<size_t>(v)]) << t << " " << v;
      } else if (p != kSilent) {
        EXPECT_GE(p, music::kVoiceLowest[static_cast<size_t>(v)]);
        EXPECT_LE(p, music::kVoiceHighest[static_cast<size_t>(v)]);
      }
    }
  }
  // The same seed draws the same music; another seed other music; one pass is allowed.
  EXPECT_EQ(infill_grid(*m, grid, regenerate, o).pitches, out.pitches);
  o.seed = 5;
  EXPECT_NE(infill_grid(*m, grid, regenerate, o).pitches, out.pitches);
  o.passes = 1;
  infill_grid(*m, grid, regenerate, o, &st);
  EXPECT_EQ(st.passes, 1);
  // A next-token model is refused.
  torch::manual_seed(1);
  model::SequenceModel lm = model::build_model(model::preset("tiny", "satb16"));
  EXPECT_THROW(infill_grid(*lm, grid, regenerate, o), std::invalid_argument);
}

TEST(Infill, GibbsBlocksShrinkAsCoconetsScheduleSays) {
  // alpha_n = max(0.05, 1 - 0.95 n / (0.75 * 8)) of 100: 1, 0.842, 0.683, 0.525, 0.367, 0.208, 0.05, 0.05.
  InfillOptions o;
  EXPECT_EQ(gibbs_block_sizes(100, 8, o), (std::vector<int64_t>{100, 84, 68, 53, 37, 21, 5, 5}));
  EXPECT_EQ(gibbs_block_sizes(3, 4, o), (std::vector<int64_t>{3, 2, 1, 1}));  // at least one
  o.block_min = 0;
  EXPECT_THROW(gibbs_block_sizes(10, 4, o), std::invalid_argument);
  EXPECT_EQ(parse_infill_sampler("gibbs"), InfillSampler::kGibbs);
  EXPECT_STREQ(infill_sampler_name(parse_infill_sampler("ancestral")), "ancestral");
  EXPECT_THROW(parse_infill_sampler("metropolis"), std::invalid_argument);
}

TEST(Infill, GibbsTemperatureFallsLinearlyToTheFinalOne) {
  InfillOptions o;
  o.sampling.temperature = 1.0;
  EXPECT_DOUBLE_EQ(gibbs_temperature(o, 5, 11), 1.0);  // final 0: constant
  o.final_temperature = 0.5;
  EXPECT_DOUBLE_EQ(gibbs_temperature(o, 0, 11), 1.0);
  EXPECT_DOUBLE_EQ(gibbs_temperature(o, 5, 11), 0.75);
  EXPECT_DOUBLE_EQ(gibbs_temperature(o, 10, 11), 0.5);
  EXPECT_DOUBLE_EQ(gibbs_temperature(o, 0, 1), 1.0);  // one iteration: the temperature as given
  o.final_temperature = 2.0;                           // it may rise too
  EXPECT_DOUBLE_EQ(gibbs_temperature(o, 1, 3), 1.5);
}

TEST(Infill, GibbsKeepsWhatIsGivenRunsItsIterationsAndKeepsTheRules) {
  model::SequenceModel m = tiny_infill();
  const music::ChoraleGrid grid = jsb_like_grid(32);
  std::vector<std::array<bool, 4>> regenerate(32, {false, true, true, true});
  InfillOptions o;
  o.sampler = InfillSampler::kGibbs;
  o.seed = 2;
  InfillStats st;
  const music::ChoraleGrid out = infill_grid(*m, grid, regenerate, o, &st);
  EXPECT_EQ(st.variables, 96);
  EXPECT_EQ(st.passes, 32);  // one iteration per step by default
  for (size_t t = 0; t < 32; ++t) {
    EXPECT_EQ(out.pitches[t][0], grid.pitches[t][0]) << t;
    for (int v = 1; v < 4; ++v) {
      const int8_t p = out.pitches[t][static_cast<size_t>(v)];
      if (p == kSilent) continue;
      EXPECT_GE(p, music::kVoiceLowest[static_cast<size_t>(v)]);
      EXPECT_LE(p, music::kVoiceHighest[static_cast<size_t>(v)]);
    }
  }
  // With the rules strict, every variable drawn last in its neighbourhood was checked against
  // the final notes around it: a rule broken in the result needs a fallback to explain it.
  int broken = 0;
  for (size_t t = 0; t < 32; ++t) {
    for (int v = 1; v < 4; ++v) {
      const int8_t p = out.pitches[t][static_cast<size_t>(v)];
      if (p == kSilent) continue;
      std::vector<music::GridStep> others = out.pitches;
      others[t][static_cast<size_t>(v)] = kSilent;
      broken += breaks_rules_between(others, t, v, p);
    }
  }
  EXPECT_LE(broken, 2 * st.fallbacks + 6) << "fallbacks " << st.fallbacks;
  EXPECT_EQ(infill_grid(*m, grid, regenerate, o).pitches, out.pitches);  // the seed decides
  o.iterations = 5;
  infill_grid(*m, grid, regenerate, o, &st);
  EXPECT_EQ(st.passes, 5);
}

TEST(Infill, CandidatesDrawnTogetherAreTheChainsDrawnAlone) {
  model::SequenceModel m = tiny_infill();
  const music::ChoraleGrid grid = jsb_like_grid(32);
  std::vector<std::array<bool, 4>> regenerate(32, {false, true, true, true});
  for (const InfillSampler sampler : {InfillSampler::kGibbs, InfillSampler::kAncestral}) {
    InfillOptions o;
    o.sampler = sampler;
    o.seed = 7;
    o.chains = 3;
    InfillStats together;
    const std::vector<InfillCandidate> candidates = infill_candidates(*m, grid, regenerate, o, &together);
    ASSERT_EQ(candidates.size(), 3u);
    EXPECT_EQ(together.passes, 32);  // one model run per iteration (pass) for all three
    int64_t fallbacks = 0;
    for (int64_t c = 0; c < 3; ++c) {
      // Each chain is the sampler alone with its own seed (chain 0: the seed itself).
      InfillOptions alone = o;
      alone.chains = 1;
      alone.seed = infill_chain_seed(o.seed, c);
      InfillStats st;
      const std::vector<InfillCandidate> one = infill_candidates(*m, grid, regenerate, alone, &st);
      const InfillCandidate& got = candidates[static_cast<size_t>(c)];
      EXPECT_EQ(got.grid.pitches, one.front().grid.pitches) << infill_sampler_name(sampler) << " chain " << c;
      EXPECT_EQ(got.fallbacks, st.fallbacks);
      EXPECT_NEAR(got.mean_log_prob, one.front().mean_log_prob, 1e-4);
      EXPECT_LT(got.mean_log_prob, 0.0);
      EXPECT_TRUE(std::isfinite(got.mean_log_prob));
      fallbacks += got.fallbacks;
      for (size_t t = 0; t < 32; ++t) EXPECT_EQ(got.grid.pitches[t][0], grid.pitches[t][0]);
    }
    EXPECT_EQ(together.fallbacks, fallbacks);
    EXPECT_NE(candidates[0].grid.pitches, candidates[1].grid.pitches);
    EXPECT_NE(candidates[1].grid.pitches, candidates[2].grid.pitches);
    EXPECT_EQ(infill_grid(*m, grid, regenerate, o).pitches, infill_candidates(*m, grid, regenerate, [&] {
      InfillOptions one = o;
      one.chains = 1;
      return one;
    }()).front().grid.pitches);
  }
  // Chain seeds are not one stream shifted: chain 1 of seed s is not chain 0 of s + gamma.
  EXPECT_NE(infill_chain_seed(7, 1), 7 + runtime::kSplitMixGamma);
  EXPECT_NE(infill_chain_seed(7, 1), infill_chain_seed(8, 1));
  InfillOptions bad;
  bad.chains = 0;
  EXPECT_THROW(infill_candidates(*m, grid, regenerate, bad), std::invalid_argument);
  bad.chains = kMaxInfillChains + 1;
  EXPECT_THROW(infill_candidates(*m, grid, regenerate, bad), std::invalid_argument);
}

TEST(Critic, ConsensusKeepsTheCandidateNearestTheOthersAndModelTheBestScored) {
  // Four beats (16 steps). a and b agree on every beat; c has another bass (and so another
  // chord) on beats 2 and 3; d differs from a on all four.
  auto piece = [](std::array<int8_t, 4> bass) {
    music::ChoraleGrid g;
    for (size_t t = 0; t < 16; ++t) g.pitches.push_back({72, 67, 64, bass[t / 4]});
    return g;
  };
  const music::ChoraleGrid a = piece({48, 43, 48, 43}), c = piece({48, 45, 41, 43}), d = piece({41, 45, 41, 45});
  std::vector<InfillCandidate> candidates = {{d, 0, -0.5}, {a, 0, -0.9}, {a, 0, -0.8}, {c, 0, -0.1}};
  std::vector<double> scores;
  // Agreement, (same bass + same chord) / (beats + beats) averaged over the other three:
  //   d: with a 0/8, a 0/8, c 4/8 -> 1/6;  a (either): with d 0, a 1, c 4/8 -> 1/2;  c: d 1/2, a 1/2, a 1/2 -> 1/2.
  // a, a and c tie at 1/2: the model score breaks the tie, for c (-0.1).
  EXPECT_EQ(pick_candidate(candidates, Critic::kConsensus, &scores), 3u);
  ASSERT_EQ(scores.size(), 4u);
  EXPECT_NEAR(scores[0], 1.0 / 6 - 0.5e-3, 1e-12);
  EXPECT_NEAR(scores[1], 0.5 - 0.9e-3, 1e-12);
  EXPECT_NEAR(scores[2], 0.5 - 0.8e-3, 1e-12);
  EXPECT_NEAR(scores[3], 0.5 - 0.1e-3, 1e-12);
  EXPECT_EQ(pick_candidate(candidates, Critic::kModel, &scores), 3u);
  EXPECT_DOUBLE_EQ(scores[1], -0.9);
  candidates.pop_back();  // d, a, a: the two a agree (1/2 each), d with neither (0); the better scored a
  EXPECT_EQ(pick_candidate(candidates, Critic::kConsensus), 2u);
  EXPECT_EQ(pick_candidate(candidates, Critic::kModel), 0u);
  EXPECT_EQ(pick_candidate({candidates[1]}, Critic::kConsensus), 0u);  // one candidate: kept
  EXPECT_THROW(pick_candidate({}, Critic::kModel), std::invalid_argument);
  EXPECT_EQ(parse_critic("model"), Critic::kModel);
  EXPECT_STREQ(critic_name(parse_critic("consensus")), "consensus");
  EXPECT_THROW(parse_critic("composer"), std::invalid_argument);
}

TEST(Infill, TheRhythmRuleHoldsOffGridNotesAndPitchClassesLimitTheDraw) {
  model::SequenceModel m = tiny_infill();
  const music::ChoraleGrid grid = jsb_like_grid(32);
  std::vector<std::array<bool, 4>> regenerate(32, {false, true, true, true});
  for (const InfillSampler sampler : {InfillSampler::kGibbs, InfillSampler::kAncestral}) {
    for (const int64_t phase : {0, 1}) {
      InfillOptions o;
      o.sampler = sampler;
      o.seed = 6;
      o.sampling.temperature = 1.5;  // a flat model: every 16th would move without the rule
      o.rhythm_steps = 2;
      o.rhythm_phase = phase;
      InfillStats st;
      const music::ChoraleGrid out = infill_grid(*m, grid, regenerate, o, &st);
      EXPECT_EQ(st.variables, 96);
      EXPECT_EQ(st.held, phase == 0 ? 48 : 45);  // off the grid: odd steps, or even steps after the first
      // Gibbs runs one iteration per step with a note to draw: the 16 on the grid (and step 0).
      if (sampler == InfillSampler::kGibbs) {
        EXPECT_EQ(st.passes, phase == 0 ? 16 : 17);
      }
      for (size_t t = 1; t < 32; ++t) {
        if ((phase + static_cast<int64_t>(t)) % 2 == 0) continue;
        for (size_t v = 1; v < 4; ++v) EXPECT_EQ(out.pitches[t][v], out.pitches[t - 1][v]) << t << " " << v;
      }
    }
  }
  // Counted from each bar line: in bars of 5 16ths the 8th grid is 0, 2, 4 in every bar, so
  // steps 1 and 3 of each bar hold (13 steps of 32, three voices each).
  {
    InfillOptions o;
    o.rhythm_steps = 2;
    o.rhythm_bar = 5;
    o.seed = 6;
    o.sampling.temperature = 1.5;
    InfillStats st;
    const music::ChoraleGrid out = infill_grid(*m, grid, regenerate, o, &st);
    EXPECT_EQ(st.held, 39);
    for (size_t t = 1; t < 32; ++t) {
      if (t % 5 != 1 && t % 5 != 3) continue;
      for (size_t v = 1; v < 4; ++v) EXPECT_EQ(out.pitches[t][v], out.pitches[t - 1][v]) << t << " " << v;
    }
  }
  // Without the rule the same draw moves on odd steps (the check above can fail).
  InfillOptions free_rhythm;
  free_rhythm.seed = 6;
  free_rhythm.sampling.temperature = 1.5;
  const music::ChoraleGrid moving = infill_grid(*m, grid, regenerate, free_rhythm);
  int odd_moves = 0;
  for (size_t t = 1; t < 32; t += 2) odd_moves += moving.pitches[t][1] != moving.pitches[t - 1][1];
  EXPECT_GT(odd_moves, 0);
  // A drawn variable off the grid after a kept one holds the kept note.
  std::vector<std::array<bool, 4>> from_nine(32, {false, false, false, false});
  for (size_t t = 9; t < 16; ++t) from_nine[t] = {false, true, true, true};
  InfillOptions o;
  o.rhythm_steps = 2;
  o.seed = 3;
  const music::ChoraleGrid kept = infill_grid(*m, grid, from_nine, o);
  for (size_t v = 1; v < 4; ++v) EXPECT_EQ(kept.pitches[9][v], grid.pitches[8][v]) << v;
  // Pitch classes: the bass only on C (no rest), the alto on C or E or a rest; the rules and
  // their fallback keep the limit.
  o.rhythm_steps = 1;
  o.sampling.temperature = 1.5;
  o.pitch_classes.assign(32, {kAnyPitch, static_cast<uint16_t>(1u | (1u << 4) | kRestBit), kAnyPitch, 1u});
  const music::ChoraleGrid limited = infill_grid(*m, grid, regenerate, o);
  for (size_t t = 0; t < 32; ++t) {
    ASSERT_NE(limited.pitches[t][3], kSilent) << t;
    EXPECT_EQ(limited.pitches[t][3] % 12, 0) << t;
    const int8_t alto = limited.pitches[t][1];
    EXPECT_TRUE(alto == kSilent || alto % 12 == 0 || alto % 12 == 4) << t << " " << static_cast<int>(alto);
  }
  o.pitch_classes.resize(31);
  EXPECT_THROW(infill_grid(*m, grid, regenerate, o), std::invalid_argument);
  o.pitch_classes.clear();
  o.rhythm_steps = 0;
  EXPECT_THROW(infill_grid(*m, grid, regenerate, o), std::invalid_argument);
}

// Where the bars fall and where the piece ends, as the model counts steps, by hand.
TEST(Harmonizer, ConditionsCountAsTheModelCountsSteps) {
  // 4/4 with a quarter pickup: 12 lead rests, the model's beat table shifted by them (the grid's
  // first step is the model's step 12), so its bars start at the model's step 0 and the piece
  // ends at its step 12 + 64.
  const music::KeyGuess d_minor{-1, true, 2};
  tokenize::PieceConditions c = harmonizer_conditions(64, 12, 12, 16, &d_minor);
  EXPECT_EQ(c, (tokenize::PieceConditions{16, 0, 76, 14}));
  EXPECT_EQ(tokenize::bar_index(c, 12), 1 + 12);  // the grid's first step: the bar's 13th 16th
  EXPECT_EQ(tokenize::end_index(c, 12 + 63), 1);  // the grid's last step: nothing remains
  // 3/4 with a quarter pickup: no shift (the beat table is 4/4), the phase says it.
  c = harmonizer_conditions(48, 0, 8, 12, nullptr);
  EXPECT_EQ(c, (tokenize::PieceConditions{12, 8, 48, -1}));
  EXPECT_EQ(tokenize::bar_index(c, 0), 17 + 8);
  EXPECT_EQ(tokenize::bar_index(c, 4), 17 + 0);  // the downbeat of bar 2
  // Another meter: unknown.
  c = harmonizer_conditions(48, 0, 0, 24, nullptr);
  EXPECT_FALSE(c.meter_known());
  EXPECT_EQ(c.steps, 48);
}

TEST(Infill, TheScheduleCoversEveryVariableOnceInEvenChunks) {
  std::vector<size_t> variables(10);
  for (size_t i = 0; i < 10; ++i) variables[i] = 100 + i;
  Rng rng(7);
  const auto chunks = infill_schedule(variables, 4, rng);
  ASSERT_EQ(chunks.size(), 4u);
  std::vector<size_t> sizes, all;
  for (const auto& c : chunks) {
    sizes.push_back(c.size());
    all.insert(all.end(), c.begin(), c.end());
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{3, 3, 2, 2}));
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, variables);
  Rng again(7);
  EXPECT_EQ(infill_schedule(variables, 4, again), chunks);  // the seed fixes the order
  Rng other(8);
  EXPECT_EQ(infill_schedule(variables, 99, other).size(), 10u);  // at most one chunk per variable
  EXPECT_TRUE(infill_schedule({}, 3, other).empty());
}

TEST(Infill, StrictVoiceLeadingRulesByHand) {
  // Known: step 0 S=72 A=65, step 2 S=74 A=67; candidates for A at step 1 with S=74 known.
  std::vector<music::GridStep> known(3, {kSilent, kSilent, kSilent, kSilent});
  known[0] = {72, 65, kSilent, kSilent};
  known[1] = {74, kSilent, kSilent, kSilent};
  known[2] = {74, 67, kSilent, 48};
  EXPECT_TRUE(breaks_rules_between(known, 1, 1, 75));   // above the soprano
  EXPECT_TRUE(breaks_rules_between(known, 1, 1, 67));   // 72->74 over 65->67: a parallel fifth (into step 1)
  EXPECT_TRUE(breaks_rules_between(known, 1, 1, 50));   // a leap of more than an octave from 65
  EXPECT_FALSE(breaks_rules_between(known, 1, 1, 65));  // held: no motion
  EXPECT_FALSE(breaks_rules_between(known, 1, 1, 69));
  // Out of the step: bass at step 2 is 48; a bass at step 1 of 50 with A=65->67? A is unknown
  // at step 1, so only S 74->74 (no motion) counts: no parallel.
  EXPECT_FALSE(breaks_rules_between(known, 1, 3, 50));
  // Octaves out of the step: B 43 -> 48 under S 74 (held) is fine; with S at step 1 = 67 ->
  // 74 at step 2? Build that case: S moves 55->60 over B 43->48: parallel octaves (12 and 12).
  known[1] = {kSilent, kSilent, kSilent, kSilent};
  known[2] = {kSilent, kSilent, 60, 48};
  known[1][2] = 55;
  EXPECT_TRUE(breaks_rules_between(known, 1, 3, 43));
  EXPECT_FALSE(breaks_rules_between(known, 1, 3, 45));
}

TEST(HarmonizeCommand, TransposeAutoMovesAMelodyIntoRangeAndBack) {
  const std::string model_path = testing::test_file("infill.pt");
  model::SequenceModel m = tiny_infill();
  model::save_model(model_path, model::preset("infill-tiny", "satb16"), *m);
  HarmonizeSettings h;
  h.common.model = model_path;
  h.common.audio = "none";
  h.common.out = testing::test_file("moved");
  auto soprano_of = [&]() {
    std::vector<int> pitches;
    for (const music::ScoreNote& n : music::score_from_midi(midi::read_midi_file(h.common.out + ".mid")).notes) {
      if (n.voice == 0) pitches.push_back(n.pitch);
    }
    return pitches;
  };
  // An octave too low (A3 to A4): refused as it is, sung an octave higher with auto.
  h.notes = "A3:1 C4 E4 A4 | G4:4 |";
  EXPECT_THROW(run_harmonize(h), generate::InputError);
  h.transpose = "auto";
  InfillReport report = run_harmonize(h);
  EXPECT_NE(report.text.find("moved 1 octave(s) up"), std::string::npos) << report.text;
  EXPECT_EQ(soprano_of(), (std::vector<int>{69, 72, 76, 81, 79}));
  // Bb3 to B5 spans 25 semitones: nothing fits, and the message says so.
  h.notes = "Bb3:1 B5:1 |";
  try {
    run_harmonize(h);
    FAIL() << "a melody wider than the soprano was harmonized";
  } catch (const generate::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("no transposition fits"), std::string::npos) << e.what();
  }
  // Bb3 to G5 (21 semitones, the range's span) fits only 2 semitones up: harmonized in that
  // key and moved back, so the soprano is the melody as given.
  h.notes = "Bb3:1 D4 G5:2 |";
  report = run_harmonize(h);
  EXPECT_NE(report.text.find("moved 2 semitone(s) up"), std::string::npos) << report.text;
  EXPECT_NE(report.text.find("moved back into its key"), std::string::npos) << report.text;
  EXPECT_EQ(soprano_of(), (std::vector<int>{58, 62, 79}));
}

TEST(HarmonizeCommand, KeepsTheSopranoExactlyAndWritesEveryFile) {
  const std::string model_path = testing::test_file("infill.pt");
  model::SequenceModel m = tiny_infill();
  model::save_model(model_path, model::preset("infill-tiny", "satb16"), *m);
  HarmonizeSettings h;
  h.notes = "G4:1 | C5:1.5 D5:0.5 E5 E5 D5:1 | C5:2 r:1 B4:1 | C5:4 |";
  h.common.model = model_path;
  h.common.audio = "none";
  h.common.out = testing::test_file("chorale");
  const InfillReport report = run_harmonize(h);
  EXPECT_EQ(report.variables, 3 * (4 + 48));
  ASSERT_EQ(report.files.size(), 2u);
  const music::Score score = music::score_from_midi(midi::read_midi_file(h.common.out + ".mid"));
  ASSERT_EQ(score.voices(), 4);
  // The soprano's notes, exactly: the pickup is written after 12 16ths of rest.
  std::vector<std::pair<int, int64_t>> soprano;  // (pitch, onset in 16ths)
  std::vector<int64_t> durations;
  for (const music::ScoreNote& n : score.notes) {
    if (n.voice == 0) {
      soprano.emplace_back(n.pitch, n.onset / 120);
      durations.push_back(n.duration / 120);
    }
  }
  const std::vector<std::pair<int, int64_t>> want = {{67, 12}, {72, 16}, {74, 22}, {76, 24}, {76, 26},
                                                     {74, 28}, {72, 32}, {71, 44}, {72, 48}};
  EXPECT_EQ(soprano, want);
  EXPECT_EQ(durations, (std::vector<int64_t>{4, 6, 2, 2, 2, 4, 8, 4, 16}));
  // The default rules: the lower voices start notes on the 8th grid, and the melody ends on C
  // in C major, so the last chord (from step 48) is a C major triad over C.
  EXPECT_NE(report.text.find("cadence: the final chord held to the tonic triad"), std::string::npos) << report.text;
  int64_t last_bass_onset = -1;
  int last_bass = -1;
  for (const music::ScoreNote& n : score.notes) {
    if (n.voice == 0) continue;
    EXPECT_EQ(n.onset / 120 % 2, 0) << "voice " << n.voice << " starts on an odd 16th: " << n.onset / 120;
    if (n.onset / 120 >= 48) {
      EXPECT_TRUE(n.pitch % 12 == 0 || n.pitch % 12 == 4 || n.pitch % 12 == 7) << "voice " << n.voice << " pitch " << n.pitch;
    }
    if (n.voice == 3 && n.onset > last_bass_onset) last_bass_onset = n.onset, last_bass = n.pitch;
  }
  EXPECT_EQ(last_bass % 12, 0) << last_bass;
  HarmonizeSettings wrong = h;
  wrong.common.rhythm = "triplets";
  EXPECT_THROW(run_harmonize(wrong), std::runtime_error);
  wrong = h;
  wrong.cadence = "plagal";
  EXPECT_THROW(run_harmonize(wrong), std::runtime_error);
  wrong = h;
  wrong.key = "H major";
  EXPECT_THROW(run_harmonize(wrong), std::runtime_error);
  wrong = h;
  wrong.common.precision = "fp16";
  EXPECT_THROW(run_harmonize(wrong), std::runtime_error);
  wrong = h;
  wrong.common.hold_temperature = -1;
  EXPECT_THROW(run_harmonize(wrong), std::runtime_error);
  wrong = h;
  wrong.common.candidates = 0;
  EXPECT_THROW(run_harmonize(wrong), std::runtime_error);
  wrong = h;
  wrong.common.candidates = kMaxInfillChains + 1;
  EXPECT_THROW(run_harmonize(wrong), std::runtime_error);
  wrong = h;
  wrong.common.critic = "composer";
  EXPECT_THROW(run_harmonize(wrong), std::runtime_error);
  // Three candidates: the critic keeps one and says which; the soprano stays exact.
  HarmonizeSettings three = h;
  three.common.candidates = 3;
  three.common.out = testing::test_file("chorale-three");
  const InfillReport three_report = run_harmonize(three);
  ASSERT_EQ(three_report.chosen.size(), 1u);
  EXPECT_GE(three_report.chosen[0], 0);
  EXPECT_LT(three_report.chosen[0], 3);
  EXPECT_NE(three_report.text.find("critic: consensus, kept candidate " + std::to_string(three_report.chosen[0] + 1) + " of 3"),
            std::string::npos)
      << three_report.text;
  ASSERT_EQ(three_report.chorales.size(), 1u);
  const music::ChoraleGrid& one_grid = report.chorales.at(0).grid;
  const music::ChoraleGrid& kept_grid = three_report.chorales[0].grid;
  ASSERT_EQ(kept_grid.steps(), one_grid.steps());
  for (size_t t = 0; t < kept_grid.steps(); ++t) EXPECT_EQ(kept_grid.pitches[t][0], one_grid.pitches[t][0]) << t;
  EXPECT_NE(report.text.find("key: C major (the melody's notes)"), std::string::npos) << report.text;
  // A key the user names is told and taken by the cadence: in A minor the melody's last C is
  // the minor third, so the final chord is A minor over A.
  HarmonizeSettings in_a = h;
  in_a.key = "A minor";
  in_a.common.out = testing::test_file("chorale-a");
  in_a.common.precision = "fp32";
  const InfillReport a_report = run_harmonize(in_a);
  EXPECT_NE(a_report.text.find("key: A minor (--key)"), std::string::npos) << a_report.text;
  EXPECT_NE(a_report.text.find("(fp32)"), std::string::npos) << a_report.text;
  int a_bass = -1;
  int64_t a_onset = -1;
  for (const music::ScoreNote& n : music::score_from_midi(midi::read_midi_file(in_a.common.out + ".mid")).notes) {
    if (n.voice == 3 && n.onset > a_onset) a_onset = n.onset, a_bass = n.pitch;
  }
  EXPECT_EQ(a_bass % 12, 9) << a_bass;
  // The MusicXML's soprano part reads back as the melody, its pickup a short first measure.
  const music::Melody back = music::read_melody_musicxml(h.common.out + ".musicxml");
  const music::Melody given = music::parse_melody_text(h.notes);
  ASSERT_EQ(back.steps(), given.steps());
  EXPECT_EQ(back.pickup_steps, 4);
  for (size_t t = 0; t < given.steps(); ++t) {
    EXPECT_EQ(back.pitches[t], given.pitches[t]) << t;
    EXPECT_EQ(back.onsets[t], given.onsets[t]) << t;
  }
  // Bad input: a clear error and no file.
  h.notes = "G4 | C7";
  h.common.out = testing::test_file("bad");
  try {
    run_harmonize(h);
    ADD_FAILURE() << "a soprano note out of range was taken";
  } catch (const InputError& e) {
    EXPECT_EQ(e.input, Input::kNotes);
    EXPECT_NE(std::string(e.what()).find("--notes"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::ifstream(h.common.out + ".mid").good());
}

TEST(InfillCommand, RedrawsOnlyTheChosenBarsAndVoices) {
  const std::string model_path = testing::test_file("infill.pt");
  model::SequenceModel m = tiny_infill();
  model::save_model(model_path, model::preset("infill-tiny", "satb16"), *m);
  // An input chorale: 3 bars.
  const music::ChoraleGrid grid = jsb_like_grid(48);
  const std::string input = testing::test_file("input.mid");
  midi::write_midi_file(input, music::score_to_midi(music::grid_to_score(grid)));
  InfillSettings s;
  s.input = input;
  s.bars = "2";
  s.voices = "tb";
  s.common.model = model_path;
  s.common.audio = "none";
  s.common.seed = 8;
  s.common.sampling.temperature = 2.0;
  s.common.out = testing::test_file("infilled");
  const InfillReport report = run_infill(s);
  EXPECT_EQ(report.variables, 32);
  const music::ChoraleGrid out = music::score_to_grid(music::score_from_midi(midi::read_midi_file(s.common.out + ".mid")));
  ASSERT_EQ(out.steps(), 48u);
  bool changed = false;
  for (size_t t = 0; t < 48; ++t) {
    for (size_t v = 0; v < 4; ++v) {
      const bool redrawn = t >= 16 && t < 32 && v >= 2;
      if (!redrawn) {
        EXPECT_EQ(out.pitches[t][v], grid.pitches[t][v]) << t << " " << v;
      } else {
        changed = changed || out.pitches[t][v] != grid.pitches[t][v];
      }
    }
  }
  EXPECT_TRUE(changed);
  EXPECT_EQ(parse_bar_range("3-5"), (std::pair<int64_t, int64_t>{3, 5}));
  EXPECT_THROW(parse_bar_range("5-3"), std::invalid_argument);
  EXPECT_THROW(parse_bar_range("0"), std::invalid_argument);
  EXPECT_THROW(parse_voices("SAX"), std::invalid_argument);
  EXPECT_THROW(parse_voices("AA"), std::invalid_argument);
  s.bars = "4";
  try {
    run_infill(s);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("has 3 bar(s)"), std::string::npos) << e.what();
  }
}

TEST(PackModel, Bf16HalvesTheFileAndLoadsAsRoundedFp32) {
  torch::manual_seed(2);
  model::SequenceModel m = model::build_model(model::preset("lstm-tiny", "satb16"));
  const std::string fp32 = testing::test_file("m32.pt"), bf16 = testing::test_file("m16.pt");
  model::save_model(fp32, model::preset("lstm-tiny", "satb16"), *m);
  commands::pack_model(fp32, bf16, "bf16");
  const model::LoadedModel a = model::load_model(fp32), b = model::load_model(bf16);
  const auto pa = a.model->parameters(), pb = b.model->parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) {
    EXPECT_EQ(pb[i].scalar_type(), torch::kFloat32);
    EXPECT_TRUE(torch::equal(pb[i], pa[i].to(torch::kBFloat16).to(torch::kFloat32)));
  }
  std::ifstream f32(fp32, std::ios::ate | std::ios::binary), f16(bf16, std::ios::ate | std::ios::binary);
  EXPECT_LT(static_cast<double>(f16.tellg()), 0.6 * static_cast<double>(f32.tellg()));
  EXPECT_THROW(commands::pack_model(fp32, bf16, "int8"), std::runtime_error);
}

}  // namespace
}  // namespace bachgen::generate
