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
