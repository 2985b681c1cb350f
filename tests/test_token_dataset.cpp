// The torch datasets over shards: window placement, shift-by-one targets, padding masks,
// augmentation within voice ranges, determinism across loader worker counts, and evaluation
// windows that cover every target token exactly once.
#include <gtest/gtest.h>

#include "bachgen/data/token_dataset.h"
#include "bachgen/tokenize/satb16.h"

namespace bachgen::data {
namespace {

using tokenize::ChoraleTokens;

// Pieces of `steps` 4-token steps, BOS and EOS, with recognisable pitches.
std::shared_ptr<TokenShard> chorale_shard(const std::vector<int>& steps) {
  auto shard = std::make_shared<TokenShard>();
  shard->vocab = VocabId::kSatb16;
  for (size_t p = 0; p < steps.size(); ++p) {
    music::ChoraleGrid g;
    for (int t = 0; t < steps[p]; ++t) {
      g.pitches.push_back({static_cast<int8_t>(70 + t % 5), 64, 57, static_cast<int8_t>(48 + p % 3)});
    }
    shard->add_piece(tokenize::encode_satb16(g));
  }
  return shard;
}

TEST(TokenDataset, WindowsStartOnStepsAndTargetsShiftByOne) {
  WindowOptions o;
  o.length = 16;
  o.augment = false;
  o.seed = 7;
  WindowDataset ds(chorale_shard({40, 30, 50}), o);
  EXPECT_EQ(*ds.size(), (162u + 122u + 202u) / 16u);  // total tokens / L
  for (size_t i = 0; i < 50; ++i) {
    size_t real = 0;
    const std::vector<int32_t> w = ds.example(i, &real);
    ASSERT_EQ(w.size(), 17u);
    EXPECT_EQ(real, 17u);
    // Either the piece's BOS, or a soprano token (pitches 70-74): a step boundary.
    EXPECT_TRUE(w[0] == ChoraleTokens::kBos ||
                (w[0] >= tokenize::Satb16Vocab::pitch_token(70) && w[0] <= tokenize::Satb16Vocab::pitch_token(74)))
        << i << ": " << w[0];
  }
  const TokenBatch b = ds.get_batch({0, 1, 2});
  EXPECT_EQ(b.input.sizes(), (std::vector<int64_t>{3, 16}));
  EXPECT_TRUE(torch::equal(b.input.index({torch::indexing::Slice(), torch::indexing::Slice(1, 16)}),
                           b.target.index({torch::indexing::Slice(), torch::indexing::Slice(0, 15)})));
  EXPECT_EQ(b.mask.sum().item<float>(), 48.0f);
  for (int64_t i = 0; i < 3; ++i) {  // offset 0 is the BOS; otherwise a soprano position
    const int64_t off = b.offset[i].item<int64_t>();
    EXPECT_TRUE(off == 0 || off % 4 == 1) << off;
    EXPECT_EQ(off == 0, b.input[i][0].item<int64_t>() == ChoraleTokens::kBos);
  }
}

TEST(TokenDataset, ShortPiecesArePaddedAndMasked) {
  WindowOptions o;
  o.length = 32;
  o.augment = false;
  WindowDataset ds(chorale_shard({3}), o);  // 14 tokens: BOS, 12, EOS
  const TokenBatch b = ds.get_batch({0});
  EXPECT_EQ(b.input[0][0].item<int64_t>(), ChoraleTokens::kBos);
  EXPECT_EQ(b.target[0][12].item<int64_t>(), ChoraleTokens::kEos);
  EXPECT_EQ(b.target[0][13].item<int64_t>(), ChoraleTokens::kPad);
  EXPECT_EQ(b.mask.sum().item<float>(), 13.0f);  // targets 1..13 are real
  EXPECT_EQ(b.mask[0][12].item<float>(), 1.0f);
  EXPECT_EQ(b.mask[0][13].item<float>(), 0.0f);
}

TEST(TokenDataset, TranspositionStaysInsideTheVoiceRanges) {
  WindowOptions o;
  o.length = 24;
  o.seed = 3;
  tokenize::VoiceRanges corpus;
  corpus.lowest = {68, 62, 55, 46};
  corpus.highest = {77, 66, 60, 52};  // the pieces allow shifts of -2..+3
  WindowDataset ds(chorale_shard({20, 20}), o, corpus);
  std::set<int> shifts;
  for (size_t i = 0; i < 200; ++i) {
    size_t real = 0;
    std::vector<int32_t> w = ds.example(i, &real);
    const tokenize::VoiceRanges r = tokenize::chorale_voice_ranges(w.data(), real, w[0] == ChoraleTokens::kBos ? 1 : 0);
    for (int v = 0; v < 4; ++v) {
      EXPECT_GE(r.lowest[v], corpus.lowest[v]);
      EXPECT_LE(r.highest[v], corpus.highest[v]);
    }
    shifts.insert(r.lowest[1] - 64);  // the alto is always 64 before shifting
  }
  EXPECT_EQ(shifts, (std::set<int>{-2, -1, 0, 1, 2}));
}

TEST(TokenDataset, LoaderWorkersDoNotChangeTheBatches) {
  WindowOptions o;
  o.length = 20;
  o.seed = 11;
  o.examples_per_epoch = 40;
  auto shard = chorale_shard({40, 25, 60, 33});
  auto run = [&](size_t workers) {
    auto loader = torch::data::make_data_loader(
        WindowDataset(shard, o), torch::data::samplers::SequentialSampler(40),
        torch::data::DataLoaderOptions().batch_size(8).workers(workers));
    std::vector<torch::Tensor> inputs;
    for (TokenBatch& b : *loader) inputs.push_back(b.input);
    return torch::cat(inputs);
  };
  const torch::Tensor none = run(0);
  EXPECT_EQ(none.size(0), 40);
  EXPECT_TRUE(torch::equal(none, run(2)));
  EXPECT_TRUE(torch::equal(none, run(1)));
  o.seed = 12;
  EXPECT_FALSE(torch::equal(none, run(0)));
}

TEST(TokenDataset, EvaluationCoversEveryTargetOnce) {
  auto shard = chorale_shard({10, 3, 25});  // 42, 14, 102 tokens
  const std::vector<TokenBatch> batches = evaluation_batches(*shard, 16, 4);
  double targets = 0;
  for (const TokenBatch& b : batches) targets += b.mask.sum().item<double>();
  EXPECT_EQ(targets, 41 + 13 + 101);
  // The first window of the first piece is its first 17 tokens.
  EXPECT_EQ(batches[0].input[0][0].item<int64_t>(), ChoraleTokens::kBos);
  EXPECT_EQ(batches[0].target[0][15].item<int64_t>(), shard->piece(0)[16]);
  // Windows: ceil(41/16) + ceil(13/16) + ceil(101/16) = 3 + 1 + 7 = 11, batched by 4.
  EXPECT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[2].input.size(0), 3);
  EXPECT_EQ(batches[0].offset[1].item<int64_t>(), 16);  // the second window of the first piece
}

}  // namespace
}  // namespace bachgen::data

namespace bachgen::data {
namespace {

// Conditions ride along with each window: the piece's, with the key moved by the window's
// transposition; dropped parts are unknown; the tokens are those of a dataset without them.
TEST(TokenDataset, WindowsCarryTheirPiecesConditions) {
  const auto shard = chorale_shard({40, 30, 50});
  WindowOptions plain;
  plain.length = 16;
  plain.seed = 3;
  WindowOptions with = plain;
  with.conditions = {{16, 12, 40, 2}, {12, 0, 30, 14}, {0, 0, 50, -1}};
  tokenize::VoiceRanges corpus;  // shifts of -2..+3, as in TranspositionStaysInsideTheVoiceRanges
  corpus.lowest = {68, 62, 55, 46};
  corpus.highest = {77, 66, 60, 52};
  WindowDataset a(shard, plain, corpus), b(shard, with, corpus);
  int transposed = 0;
  for (size_t i = 0; i < 40; ++i) {
    size_t real_a = 0, real_b = 0, start = 0;
    tokenize::PieceConditions c;
    const std::vector<int32_t> wa = a.example(i, &real_a);
    const std::vector<int32_t> wb = b.example(i, &real_b, &start, &c);
    EXPECT_EQ(wa, wb) << i;
    // Which piece: its bass (48 + piece) in the first whole step of the window; the key's
    // move is the soprano's against the untransposed 70..74 pattern.
    const size_t first = wb[0] == ChoraleTokens::kBos ? 1 : 0;
    const int bass = wb[first + 3] - ChoraleTokens::kFirstPitch + ChoraleTokens::kLowestPitch;
    const int alto = wb[first + 1] - ChoraleTokens::kFirstPitch + ChoraleTokens::kLowestPitch;
    const int shift = alto - 64;
    const size_t piece = static_cast<size_t>(bass - shift - 48);
    ASSERT_LT(piece, 3u) << i;
    tokenize::PieceConditions expected = with.conditions[piece];
    expected.key = tokenize::transposed_key(expected.key, shift);
    EXPECT_EQ(c, expected) << i;
    transposed += shift != 0;
  }
  EXPECT_GT(transposed, 10);  // augmentation moved most windows, and their keys with them
  const TokenBatch batch = b.get_batch({0, 1, 2, 3});
  ASSERT_TRUE(batch.conditions.defined());
  EXPECT_EQ(batch.conditions.sizes(), (std::vector<int64_t>{4, 4}));
  EXPECT_FALSE(a.get_batch({0, 1}).conditions.defined());

  // Dropout 1: everything unknown, always; 0.5: each part sometimes, all of them sometimes.
  WindowOptions dropped = with;
  dropped.condition_dropout = 1.0;
  WindowDataset d(shard, dropped);
  for (size_t i = 0; i < 20; ++i) {
    size_t real = 0;
    tokenize::PieceConditions c;
    d.example(i, &real, nullptr, &c);
    EXPECT_EQ(c, tokenize::PieceConditions{}) << i;
  }
  WindowOptions half = with;
  half.condition_dropout = 0.5;
  WindowDataset h(shard, half);
  int meter_known = 0, length_known = 0, none_known = 0;
  for (size_t i = 0; i < 400; ++i) {
    size_t real = 0;
    tokenize::PieceConditions c;
    h.example(i, &real, nullptr, &c);
    meter_known += c.steps_per_bar != 0;
    length_known += c.steps != 0;
    none_known += c.steps == 0 && c.key < 0 && c.steps_per_bar == 0;
  }
  // Two of three pieces have a meter: about 400 * 2/3 * 1/4 known (kept with p 0.5 x 0.5).
  EXPECT_GT(meter_known, 40);
  EXPECT_LT(meter_known, 100);
  EXPECT_GT(length_known, 70);   // about 100
  EXPECT_LT(length_known, 130);
  EXPECT_GT(none_known, 150);    // at least the half dropped at once
}

TEST(TokenDataset, EvaluationBatchesCarryConditionsWhenGiven) {
  const auto shard = chorale_shard({40, 30});
  const std::vector<tokenize::PieceConditions> c = {{16, 0, 40, 5}, {12, 8, 30, 20}};
  const std::vector<TokenBatch> batches = evaluation_batches(*shard, 64, 8, &c);
  ASSERT_EQ(batches.size(), 1u);
  // Piece 0 (161 tokens) gives 3 windows of 64 targets, piece 1 (121) gives 2.
  const torch::Tensor rows = batches[0].conditions;
  ASSERT_EQ(rows.size(0), 5);
  EXPECT_EQ(rows[0][3].item<int64_t>(), 5);
  EXPECT_EQ(rows[2][0].item<int64_t>(), 16);
  EXPECT_EQ(rows[3][1].item<int64_t>(), 8);
  EXPECT_EQ(rows[4][2].item<int64_t>(), 30);
  EXPECT_FALSE(evaluation_batches(*shard, 64, 8)[0].conditions.defined());
  const std::vector<tokenize::PieceConditions> one = {c[0]};
  EXPECT_THROW(evaluation_batches(*shard, 64, 8, &one), std::invalid_argument);
}

}  // namespace
}  // namespace bachgen::data
