// The generator: the KV cache and the recompute generator draw the same tokens, rows do not
// depend on how many are drawn together, the SATB grammar holds, and `bachgen generate`
// writes a whole number of bars that starts with its primer.
#include <gtest/gtest.h>

#include "bachgen/generate/composer.h"
#include "bachgen/generate/errors.h"
#include "bachgen/generate/generator.h"
#include "bachgen/io/files.h"
#include "bachgen/midi/midi_reader.h"
#include "bachgen/midi/midi_writer.h"
#include "bachgen/model/model_file.h"
#include "bachgen/music/score.h"
#include "bachgen/music/voice_leading.h"
#include "bachgen/tokenize/satb16.h"
#include "cli_run.h"

namespace bachgen::generate {
namespace {

model::SequenceModel tiny(const std::string& preset, const std::string& vocab) {
  torch::manual_seed(11);
  return model::build_model(model::preset(preset, vocab));
}

TEST(Generator, CacheAndRecomputeDrawTheSameTokens) {
  for (const std::string preset : {"tiny", "lstm-tiny"}) {
    model::SequenceModel m = tiny(preset, "satb16");
    GenerateOptions o;
    o.seed = 5;
    o.count = 3;
    o.max_new_tokens = 40;
    o.eos = tokenize::ChoraleTokens::kEos;
    o.constraint = ChoraleGrammar{};
    GenerateStats cached_stats, plain_stats;
    const auto cached = generate_tokens(*m, {1}, o, &cached_stats);
    o.use_cache = false;
    const auto plain = generate_tokens(*m, {1}, o, &plain_stats);
    EXPECT_EQ(cached, plain) << preset;
    EXPECT_EQ(plain_stats.steps, 40) << preset;  // one full forward per new token
    // Row 0 alone is row 0 of the batch.
    o.count = 1;
    o.use_cache = true;
    EXPECT_EQ(generate_tokens(*m, {1}, o)[0], cached[0]) << preset;
    // Another seed, other music.
    o.seed = 6;
    EXPECT_NE(generate_tokens(*m, {1}, o)[0], cached[0]) << preset;
  }
}

TEST(Generator, TheSatbGrammarHolds) {
  for (const bool onset : {false, true}) {
    model::SequenceModel m = tiny("tiny", onset ? "satb16-onset" : "satb16");
    ChoraleGrammar grammar;
    grammar.onset_vocab = onset;
    GenerateOptions o;
    o.count = 4;
    o.max_new_tokens = 4 * 64;  // 4 bars
    o.eos = tokenize::ChoraleTokens::kEos;
    o.constraint = grammar;
    o.sampling.temperature = 1.5;  // an untrained model at a high temperature tries everything
    for (const auto& row : generate_tokens(*m, {1}, o)) {
      ASSERT_EQ(row[0], 1);
      for (size_t i = 1; i < row.size(); ++i) {
        const int32_t t = row[i];
        if (t == tokenize::ChoraleTokens::kEos) {
          EXPECT_EQ(i, row.size() - 1);
          EXPECT_EQ((i - 1) % 64, 0u) << "EOS off a bar line at " << i;
          continue;
        }
        ASSERT_NE(t, tokenize::ChoraleTokens::kBos);
        ASSERT_NE(t, tokenize::ChoraleTokens::kPad);
        if (t == tokenize::ChoraleTokens::kRest) continue;
        const int v = static_cast<int>((i - 1) % 4);
        const bool hold = onset && t >= tokenize::Satb16OnsetVocab::kFirstHold;
        const int pitch = tokenize::ChoraleTokens::kLowestPitch +
                          (t - (hold ? tokenize::Satb16OnsetVocab::kFirstHold : tokenize::ChoraleTokens::kFirstPitch));
        EXPECT_GE(pitch, grammar.lowest[v]) << i;
        EXPECT_LE(pitch, grammar.highest[v]) << i;
        if (hold) {
          ASSERT_GE(i, 5u);
          const int32_t before = row[i - 4];
          EXPECT_TRUE(before == t || before == tokenize::Satb16OnsetVocab::onset_token(pitch)) << "hold at " << i;
        }
      }
    }
  }
}

TEST(Generator, StrictVoiceLeadingLeavesNoParallelsOrCrossings) {
  model::SequenceModel m = tiny("tiny", "satb16");
  int64_t parallels[2] = {0, 0}, crossings[2] = {0, 0};
  for (const bool strict : {false, true}) {
    ChoraleGrammar grammar;
    grammar.voice_leading = strict;
    GenerateOptions o;
    o.count = 6;
    o.max_new_tokens = 4 * 64;
    o.constraint = grammar;
    o.sampling.temperature = 2.0;  // near-random music, full of parallels when unchecked
    for (std::vector<int32_t> row : generate_tokens(*m, {1}, o)) {
      row.push_back(tokenize::ChoraleTokens::kEos);
      const music::StyleStats st = music::analyze_grid(tokenize::decode_satb16(row));
      parallels[strict] += st.parallel_fifths + st.parallel_octaves;
      crossings[strict] += st.crossings;
    }
    if (strict) {
      // Each fallback position may add a few; without fallbacks there are none.
      EXPECT_LE(parallels[1], 3 * *grammar.fallbacks);
      EXPECT_LE(crossings[1], 3 * *grammar.fallbacks);
    }
  }
  EXPECT_GT(parallels[0], 10);
  EXPECT_GT(crossings[0], 10);
}

TEST(GenerateCommand, WritesWholeBarsThatStartWithThePrimer) {
  // A model file and a two-bar primer.
  const std::string model_path = testing::test_file("tiny.pt");
  model::ModelSpec spec = model::preset("tiny", "satb16");
  torch::manual_seed(3);
  model::SequenceModel m = model::build_model(spec);
  model::save_model(model_path, spec, *m);
  music::ChoraleGrid primer;
  for (int t = 0; t < 32; ++t) {
    primer.pitches.push_back(music::GridStep{static_cast<int8_t>(72 - t % 3), 67, static_cast<int8_t>(60 + t % 2), 48});
  }
  const std::string primer_path = testing::test_file("primer.mid");
  midi::write_midi_file(primer_path, music::score_to_midi(music::grid_to_score(primer)));
  const std::string out = testing::test_file("song");
  const testing::CliResult r = testing::run_command(
      BACHGEN_CLI, "generate --model '" + model_path + "' --primer '" + primer_path +
                       "' --primer-steps 8 --bars 3 --seed 4 --count 2 --out '" + out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("wrote " + out + "-2.mid"), std::string::npos) << r.out;
  for (const char* suffix : {"-1.mid", "-2.mid"}) {
    const music::ChoraleGrid grid = music::score_to_grid(music::score_from_midi(midi::read_midi_file(out + suffix)));
    // Whole bars (a piece may end at an earlier bar line when it draws EOS there), the primer's
    // first 8 steps kept exactly.
    EXPECT_EQ(grid.steps() % 16, 0u) << suffix << ": " << grid.steps() << " steps";
    EXPECT_LE(grid.steps(), 48u);
    ASSERT_GE(grid.steps(), 8u);
    for (size_t t = 0; t < 8; ++t) EXPECT_EQ(grid.pitches[t], primer.pitches[t]) << suffix << " step " << t;
  }
  // MusicXML and audio beside each MIDI file.
  for (const char* suffix : {"-1.wav", "-2.wav"}) EXPECT_GT(io::read_file_bytes(out + suffix, 1 << 26).size(), 44u);
  for (const char* suffix : {"-1.musicxml", "-2.musicxml"}) {
    const std::vector<uint8_t> xml = io::read_file_bytes(out + suffix, 1 << 24);
    const std::string text(xml.begin(), xml.end());
    EXPECT_NE(text.find("<score-partwise version=\"3.1\">"), std::string::npos) << suffix;
    EXPECT_NE(text.find("<part-name>Bass</part-name>"), std::string::npos) << suffix;
  }
  // Bad input: a clear error and no output.
  const testing::CliResult bad = testing::run_command(
      BACHGEN_CLI, "generate --model '" + model_path + "' --primer /no/such.mid --audio none --out '" + out + "-bad'");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("/no/such.mid"), std::string::npos) << bad.err;
  const testing::CliResult short_len = testing::run_command(
      BACHGEN_CLI, "generate --model '" + model_path + "' --primer '" + primer_path + "' --primer-steps 0 --bars 2 --out '" + out + "-short'");
  EXPECT_NE(short_len.exit_code, 0);
  EXPECT_NE(short_len.err.find("the primer already has 32 steps"), std::string::npos) << short_len.err;
}

TEST(GenerateCommand, TheDecodersWriteTheSameMusic) {
  const std::string model_path = testing::test_file("tiny-decoders.pt");
  model::ModelSpec spec = model::preset("tiny", "satb16");
  torch::manual_seed(5);
  model::SequenceModel m = model::build_model(spec);
  model::save_model(model_path, spec, *m);
  const std::string common = "generate --model '" + model_path + "' --bars 4 --seed 9 --count 2 --audio none ";
  const std::string out = testing::test_file("decoders");
  const testing::CliResult fast = testing::run_command(BACHGEN_CLI, common + "--decode-weights fp32 --out '" + out + "-fast'");
  ASSERT_EQ(fast.exit_code, 0) << fast.err;
  EXPECT_NE(fast.out.find("fast fp32 decoder"), std::string::npos) << fast.out;
  const testing::CliResult torch_step = testing::run_command(BACHGEN_CLI, common + "--decoder torch --out '" + out + "-torch'");
  ASSERT_EQ(torch_step.exit_code, 0) << torch_step.err;
  EXPECT_NE(torch_step.out.find("LibTorch step decoder"), std::string::npos) << torch_step.out;
  // fp32 weights: the fast decoder, a sample at a time, writes the batch's MIDI files byte for
  // byte (the MusicXML files differ in their titles, the output names).
  for (const char* suffix : {"-1.mid", "-2.mid"}) {
    EXPECT_EQ(io::read_file_bytes(out + "-fast" + suffix, 1 << 24), io::read_file_bytes(out + "-torch" + suffix, 1 << 24)) << suffix;
  }
  const testing::CliResult int8 = testing::run_command(BACHGEN_CLI, common + "--out '" + out + "-int8'");
  ASSERT_EQ(int8.exit_code, 0) << int8.err;
  EXPECT_NE(int8.out.find("fast int8 decoder"), std::string::npos) << int8.out;
  const testing::CliResult bad = testing::run_command(BACHGEN_CLI, common + "--decode-weights int4 --out '" + out + "-bad'");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("--decode-weights"), std::string::npos) << bad.err;
  EXPECT_FALSE(io::is_regular_file(out + "-bad-1.mid"));
}

// A composer with conditions writes exactly the bars asked for, with a pickup as often as
// Bach's when none is given, is told the meter, length and key, and both decoders draw the same
// music from those conditions.
TEST(Composer, AComposerWithConditionsWritesTheBarsItIsTold) {
  model::ModelSpec spec = model::preset("tiny", "satb16");
  spec.transformer.beat_steps = 4, spec.transformer.conditions = true;
  torch::manual_seed(8);
  model::SequenceModel m = model::build_model(spec);
  const std::string path = testing::test_file("conditioned.pt");
  model::save_model(path, spec, *m);
  ComposerOptions fast_options, torch_options;
  fast_options.weights = model::DecodeWeights::kFp32;
  torch_options.decoder = Decoder::kTorch;
  Composer fast(path, fast_options), step(path, torch_options);
  EXPECT_TRUE(fast.conditioned());
  int pickups = 0, opened_in_key = 0;
  for (uint64_t seed = 1; seed <= 24; ++seed) {
    ComposeOptions o;
    o.seed = seed;
    o.bars = 5;
    o.key = music::parse_key("D minor");
    const std::vector<Composition> a = fast.compose(o);
    ASSERT_EQ(a.size(), 1u);
    const music::Chorale& c = a[0].chorale;
    EXPECT_EQ(c.bars(), 5) << seed;
    EXPECT_EQ(c.steps_per_bar, 16);
    EXPECT_TRUE(c.pickup_steps == 0 || c.pickup_steps == 4) << c.pickup_steps;
    EXPECT_EQ(static_cast<int64_t>(c.grid.steps()), c.pickup_steps > 0 ? 4 * 16 + c.pickup_steps : 5 * 16) << seed;
    pickups += c.pickup_steps > 0;
    ASSERT_TRUE(a[0].conditions.has_value());
    EXPECT_EQ(a[0].conditions->key, 14);
    EXPECT_EQ(a[0].conditions->steps, static_cast<int>(c.grid.steps()));
    EXPECT_EQ(a[0].conditions->bar_phase, (16 - c.pickup_steps) % 16);
    EXPECT_EQ(a[0].candidates, 16);  // with a key: the best of 16 by rule
    if (a[0].key_change) {  // moved there when it was not in it
      EXPECT_EQ(a[0].key_change->to.substr(0, 1), "D") << a[0].key_change->to;
    } else {
      // It opens on the D minor triad, every voice sounding, D in the bass.
      const music::GridStep& first = c.grid.pitches[0];
      for (int v = 0; v < 4; ++v) {
        ASSERT_NE(first[static_cast<size_t>(v)], music::kSilent) << seed;
        const int pc = first[static_cast<size_t>(v)] % 12;
        EXPECT_TRUE(v == 3 ? pc == 2 : (pc == 2 || pc == 5 || pc == 9)) << seed << " voice " << v << " pc " << pc;
      }
      ++opened_in_key;
    }
    if (seed <= 3) {
      EXPECT_EQ(step.compose(o)[0].chorale.grid.pitches, c.grid.pitches) << seed;
    }
  }
  EXPECT_GT(opened_in_key, 0);
  EXPECT_GT(pickups, 8);   // Bach: 71 % in 4/4
  EXPECT_LT(pickups, 24);
  // Without a key: the best of 4; --candidates 1 is the model's own draw.
  ComposeOptions plain;
  plain.bars = 2;
  EXPECT_EQ(fast.compose(plain)[0].candidates, 4);
  plain.candidates = 1;
  EXPECT_EQ(fast.compose(plain)[0].candidates, 1);
  plain.candidates = 65;
  EXPECT_THROW(fast.compose(plain), InputError);
  // 3/4 without a pickup, and an explicit pickup.
  ComposeOptions waltz;
  waltz.bars = 4, waltz.steps_per_bar = 12, waltz.pickup_steps = 0;
  const music::Chorale w = fast.compose(waltz)[0].chorale;
  EXPECT_EQ(w.grid.steps(), 48u);
  EXPECT_EQ(w.steps_per_bar, 12);
  waltz.pickup_steps = 4;
  EXPECT_EQ(fast.compose(waltz)[0].chorale.grid.steps(), 3u * 12 + 4);
  waltz.pickup_steps = 12;
  EXPECT_THROW(fast.compose(waltz), InputError);
}

}  // namespace
}  // namespace bachgen::generate
