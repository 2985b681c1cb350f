// The models shipped in models/: each loads by name, the chorale models score Bach's JSB test
// split as their model card (models/card.json, models/README.md) says within 0.005 nats, the
// performance model continues a MIDI file, and the demo's two commands, run with the bundled
// models, write MIDI our reader reads, well-formed MusicXML and audio with sound in it.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>
#include <sstream>

#include "bachgen/data/jsb.h"
#include "bachgen/data/token_input.h"
#include "bachgen/data/token_shard.h"
#include "bachgen/runtime/bundled_models.h"
#include "bachgen/io/files.h"
#include "bachgen/midi/midi_reader.h"
#include "bachgen/model/fast_decode.h"
#include "bachgen/model/model_file.h"
#include "bachgen/music/score.h"
#include "bachgen/train/evaluate.h"
#include "cli_run.h"
#include "corpus.h"

namespace bachgen {
namespace {

nlohmann::json card() {
  std::ifstream in(std::string(BACHGEN_SOURCE_DIR) + "/models/card.json");
  return nlohmann::json::parse(in);
}

std::string readme() { return testing::slurp(std::string(BACHGEN_SOURCE_DIR) + "/models/README.md"); }

std::string fixed4(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4f", v);
  return text;
}

data::TokenShard jsb_test_shard(const std::string& dir) {
  const data::JsbCorpus jsb = data::load_jsb(dir + "/Jsb16thSeparated.json");
  data::TokenShard shard;
  shard.vocab = tokenize::VocabId::kSatb16;
  for (const music::ChoraleGrid& g : jsb.test) shard.add_piece(data::encode_grid(g, tokenize::VocabId::kSatb16));
  return shard;
}

// The default composer (a Music Transformer with conditions) is scored with nothing known, the
// honest figure of its card; the LSTM it replaced still scores as its card says.
TEST(BundledModels, TheChoraleModelsScoreAsTheirCardSays) {
  BACHGEN_REQUIRE_DATA(dir, "jsb-chorales");
  const data::TokenShard shard = jsb_test_shard(dir);
  for (const std::string& name : {std::string(runtime::kDefaultComposer), std::string("jsb-lstm")}) {
    const nlohmann::json c = card().at(name);
    const model::LoadedModel m = model::load_model(runtime::resolve_model(name, runtime::kDefaultComposer), "satb16");
    EXPECT_EQ(model::model_kind_name(m.spec.kind), c.at("kind").get<std::string>()) << name;
    const train::EvalResult r = train::evaluate_shard(*m.model, shard, 4096);
    EXPECT_NEAR(r.nll_per_token, c.at("test_nll_per_token").get<double>(), 0.005) << name;
    EXPECT_NE(readme().find(fixed4(c.at("test_nll_per_token").get<double>())), std::string::npos) << name << ": the card's table";
  }
  EXPECT_EQ(card().at(runtime::kDefaultComposer).at("kind"), "music-transformer");
}

// Generation decodes through model/fast_decode.h, by default with int8 weights: scored that way
// (teacher forcing, token by token), both chorale models keep LibTorch's NLL. The first 5 test
// chorales (the whole split takes minutes token by token; docs/generation.md has its figures).
TEST(BundledModels, TheFastDecoderKeepsTheModelsScore) {
  BACHGEN_REQUIRE_DATA(dir, "jsb-chorales");
  const data::TokenShard all = jsb_test_shard(dir);
  data::TokenShard shard;
  for (size_t p = 0; p < 5; ++p) shard.add_piece(std::vector<int32_t>(all.piece(p), all.piece(p) + all.piece_length(p)));
  for (const std::string& name : {std::string(runtime::kDefaultComposer), std::string("jsb-lstm")}) {
    const model::LoadedModel m = model::load_model(runtime::resolve_model(name, runtime::kDefaultComposer), "satb16");
    const train::EvalResult reference = train::evaluate_shard(*m.model, shard, 4096);
    for (const model::DecodeWeights w : {model::DecodeWeights::kFp32, model::DecodeWeights::kInt8}) {
      const auto decoder = model::make_fast_decoder(*m.model, w);
      ASSERT_NE(decoder, nullptr) << name;
      double nll = 0;
      int64_t tokens = 0;
      for (size_t p = 0; p < shard.pieces(); ++p) {
        const std::vector<int32_t> piece(shard.piece(p), shard.piece(p) + shard.piece_length(p));
        nll += model::score_sequence(*decoder, piece.data(), piece.size()).nll;
        tokens += static_cast<int64_t>(piece.size()) - 1;
      }
      EXPECT_EQ(tokens, reference.tokens) << name;
      std::printf("%s, %s: %.5f nats per token (LibTorch %.5f)\n", name.c_str(), model::decode_weights_name(w), nll / tokens,
                  reference.nll_per_token);
      EXPECT_NEAR(nll / tokens, reference.nll_per_token, w == model::DecodeWeights::kFp32 ? 1e-4 : 2e-3)
          << name << " " << model::decode_weights_name(w);
    }
  }
}

// The default harmonizer (relative attention and conditions, format version 2) and the one it
// replaced (version 1, read as the model it was) both score as their cards say.
TEST(BundledModels, TheHarmonizersScoreAsTheirCardSays) {
  BACHGEN_REQUIRE_DATA(dir, "jsb-chorales");
  const data::TokenShard shard = jsb_test_shard(dir);
  for (const std::string& name : {std::string(runtime::kDefaultHarmonizer), std::string("jsb-infill")}) {
    const nlohmann::json c = card().at(name);
    const model::LoadedModel m = model::load_model(runtime::resolve_model(name, runtime::kDefaultHarmonizer), "satb16");
    EXPECT_STREQ(model::model_kind_name(m.spec.kind), "chorale-infill") << name;
    // The one-pass score (the chained ones take minutes; the card reports them).
    const train::EvalResult r = train::evaluate_harmonization(*m.model, shard, false);
    EXPECT_NEAR(r.nll_mean_field, c.at("test_nll_mean_field").get<double>(), 0.005) << name;
    EXPECT_NE(readme().find(fixed4(c.at("test_nll_mean_field").get<double>())), std::string::npos) << name << ": the card's table";
  }
  const model::LoadedModel harmonizer = model::load_model(runtime::resolve_model("", runtime::kDefaultHarmonizer));
  EXPECT_TRUE(harmonizer.spec.transformer.relative);
  EXPECT_TRUE(harmonizer.spec.transformer.conditions);
}

TEST(BundledModels, ThePerformanceModelContinuesAMidiFile) {
  BACHGEN_REQUIRE_DATA(dir, "bach-chorales-midi/satb");
  const std::string out = testing::test_file("continued");
  const testing::CliResult r = testing::run_command(
      BACHGEN_CLI, "generate --model performance --primer '" + dir + "/000206b_.mid' --steps 64 --audio none --out '" + out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const music::Score score = music::score_from_midi(midi::read_midi_file(out + ".mid"));
  EXPECT_GT(score.notes.size(), 10u);
  // All five load by name; a wrong name lists them.
  const testing::CliResult bad = testing::run_command(BACHGEN_CLI, "generate --model no-such-model --out '" + out + "'");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("bundled: jsb-compose, jsb-harmonize, jsb-infill, jsb-lstm, performance"), std::string::npos) << bad.err;
}

void expect_files_parse(const std::string& name) {
  const music::Score score = music::score_from_midi(midi::read_midi_file(name + ".mid"));
  EXPECT_EQ(score.voices(), 4) << name;
  EXPECT_GT(score.notes.size(), 20u) << name;
  pugi::xml_document doc;
  const pugi::xml_parse_result parsed = doc.load_file((name + ".musicxml").c_str());
  EXPECT_TRUE(parsed) << name << ": " << parsed.description();
  EXPECT_EQ(std::distance(doc.child("score-partwise").children("part").begin(), doc.child("score-partwise").children("part").end()), 4);
  const std::vector<uint8_t> wav = io::read_file_bytes(name + ".wav", 1 << 28);
  ASSERT_GT(wav.size(), 44100u * 4);
  EXPECT_EQ(std::memcmp(wav.data(), "RIFF", 4), 0);
  int peak = 0;
  for (size_t i = 44; i + 1 < wav.size(); i += 2) {
    peak = std::max(peak, std::abs(static_cast<int>(static_cast<int16_t>(wav[i] | wav[i + 1] << 8))));
  }
  EXPECT_GT(peak, 1000) << name << ": silent audio";
}

// The demo's commands (scripts/demo.sh), shorter: a chorale and a harmonized hymn tune.
TEST(BundledModels, TheDemoWritesMusicThatParsesAndSounds) {
  const std::string chorale = testing::test_file("chorale"), hymn = testing::test_file("hymn");
  const testing::CliResult a = testing::run_command(BACHGEN_CLI, "generate --bars 4 --key 'D minor' --seed 7 --out '" + chorale + "'");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  expect_files_parse(chorale);
  const testing::CliResult b = testing::run_command(
      BACHGEN_CLI, "harmonize --notes 'G4:2 G4:1 F#4:1 | E4:1 D4:1 G4:1 A4:1 | B4:4 |' --seed 3 --out '" + hymn + "'");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  expect_files_parse(hymn);
}

}  // namespace
}  // namespace bachgen
