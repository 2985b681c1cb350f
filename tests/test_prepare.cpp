// `prepare` end to end on corpora built in code and on the real data: splits, shards that
// decode back to the input, skipped and duplicate files, JSB exclusion, and the up-to-date
// rerun.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bachgen/data/jsb.h"
#include "bachgen/data/prepare.h"
#include "bachgen/data/token_shard.h"
#include "bachgen/io/files.h"
#include "bachgen/midi/midi_writer.h"
#include "bachgen/music/score.h"
#include "bachgen/tokenize/satb16.h"
#include "corpus.h"
#include "midi_bytes.h"

namespace bachgen::data {
namespace {

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return nlohmann::json::parse(s.str());
}

music::ChoraleGrid grid_with(int soprano) {
  music::ChoraleGrid g;
  for (int i = 0; i < 8; ++i) {
    g.pitches.push_back({static_cast<int8_t>(soprano + i % 3), 64, 57, 48});
  }
  return g;
}

TEST(Prepare, MidiFolderWithABadFileAndADuplicate) {
  const std::string dir = testing::temp_path("prepare_in");
  const std::string out = testing::temp_path("prepare_out");
  std::system(("rm -rf '" + dir + "' '" + out + "'").c_str());
  io::make_directories(dir + "/nested");
  midi::write_midi_file(dir + "/000106b_.mid", music::score_to_midi(music::grid_to_score(grid_with(67))));
  midi::write_midi_file(dir + "/000206b_.mid", music::score_to_midi(music::grid_to_score(grid_with(69))));
  midi::write_midi_file(dir + "/000207b_.mid", music::score_to_midi(music::grid_to_score(grid_with(69))));
  std::ofstream(dir + "/broken.mid") << "MThd this is not a MIDI file";
  midi::write_midi_file(dir + "/nested/000306b_.mid", music::score_to_midi(music::grid_to_score(grid_with(71))));

  PrepareSettings s;
  s.source = "midi-chorales";
  s.path = dir;
  s.vocab = "satb16";
  s.out = out;
  s.progress = false;
  const PrepareResult r = prepare_dataset(s);
  EXPECT_FALSE(r.up_to_date);
  EXPECT_EQ(r.files, 4u);  // midi-chorales does not descend into folders
  EXPECT_EQ(r.skipped, 1u);
  EXPECT_EQ(r.duplicates, 1u);
  // BWV 1 -> train, BWV 2 -> valid (tests/test_chorale_corpus.cpp).
  EXPECT_EQ(r.pieces, (std::array<size_t, 3>{1, 1, 0}));
  const TokenShard train = read_shard(out + "/train.tokens");
  const std::vector<int32_t> piece(train.piece(0), train.piece(0) + train.piece_length(0));
  EXPECT_EQ(tokenize::decode_satb16(piece).pitches, grid_with(67).pitches);
  const nlohmann::json m = read_json(out + "/manifest.json");
  EXPECT_EQ(m["vocab"]["name"], "satb16");
  EXPECT_EQ(m["splits"]["valid"]["names"][0], "000206b_.mid");
  EXPECT_EQ(m["duplicates"][0]["duplicate_of"], "000206b_.mid");
  EXPECT_EQ(m["skipped"][0]["file"], "broken.mid");
  EXPECT_NE(m["skipped"][0]["error"].get<std::string>().find("byte 4"), std::string::npos);
  EXPECT_EQ(m["voice_ranges"]["lowest"][0], 67);
  ASSERT_EQ(m["source_files"].size(), 4u);
  EXPECT_EQ(m["source_files"][0]["name"], "000106b_.mid");
  EXPECT_EQ(m["source_files"][0]["fnv1a64"].get<std::string>().size(), 16u);
  EXPECT_EQ(m["source_files"][1]["fnv1a64"], m["source_files"][2]["fnv1a64"]);  // the duplicate

  // Unchanged inputs: nothing rebuilt. A changed input: rebuilt.
  EXPECT_TRUE(prepare_dataset(s).up_to_date);
  midi::write_midi_file(dir + "/000106b_.mid", music::score_to_midi(music::grid_to_score(grid_with(65))));
  EXPECT_FALSE(prepare_dataset(s).up_to_date);
  s.force = true;
  EXPECT_FALSE(prepare_dataset(s).up_to_date);

  // midi-dir descends into folders and splits by path hash; performance tokens.
  s.source = "midi-dir";
  s.vocab = "performance388";
  s.force = false;
  const PrepareResult all = prepare_dataset(s);
  EXPECT_EQ(all.files, 5u);
  EXPECT_EQ(all.pieces[0] + all.pieces[1] + all.pieces[2], 3u);
  EXPECT_EQ(read_shard(out + "/test.tokens").vocab, VocabId::kPerformance388);
}

TEST(Prepare, RefusesBadSettingsClearly) {
  PrepareSettings s;
  s.out = testing::temp_path("prepare_bad");
  s.progress = false;
  s.source = "kern";
  EXPECT_THROW(prepare_dataset(s), std::runtime_error);
  s.source = "jsb";
  s.path = "/nonexistent.json";
  try {
    prepare_dataset(s);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent.json"), std::string::npos);
  }
  s.vocab = "remi";
  EXPECT_THROW(prepare_dataset(s), std::invalid_argument);
}

TEST(Prepare, JsbAndTheChoraleCorpusWithoutLeaks) {
  BACHGEN_REQUIRE_DATA(jsb_dir, "jsb-chorales");
  BACHGEN_REQUIRE_DATA(midi_dir, "bach-chorales-midi/satb");
  const std::string jsb = jsb_dir + "/Jsb16thSeparated.json";
  PrepareSettings s;
  s.source = "jsb";
  s.path = jsb;
  s.out = testing::temp_path("prepare_jsb");
  s.force = true;
  s.progress = false;
  PrepareResult r = prepare_dataset(s);
  EXPECT_EQ(r.pieces, (std::array<size_t, 3>{229, 76, 77}));
  EXPECT_EQ(r.tokens, (std::array<size_t, 3>{220912 + 2 * 229, 73632 + 2 * 76, 75600 + 2 * 77}));

  s.source = "midi-chorales";
  s.path = midi_dir;
  s.vocab = "satb16-onset";
  s.exclude_jsb = jsb;
  s.out = testing::temp_path("prepare_chorales");
  r = prepare_dataset(s);
  EXPECT_EQ(r.files, 373u);
  EXPECT_EQ(r.duplicates, 1u);  // 002007b_ = 002011b_
  EXPECT_EQ(r.skipped, 0u);
  EXPECT_GT(r.excluded, 0u);
  EXPECT_EQ(r.pieces[0] + r.pieces[1] + r.pieces[2] + r.excluded + r.duplicates, 373u);
  // No kept piece matches a JSB valid or test piece.
  const nlohmann::json m = read_json(r.manifest);
  std::set<std::string> held_out;
  for (const auto& x : m["jsb_matches"]) {
    if (x["jsb_split"] != "train") held_out.insert(x["file"].get<std::string>());
  }
  EXPECT_EQ(held_out.size(), r.excluded);
  for (const char* split : {"train", "valid", "test"}) {
    for (const auto& name : m["splits"][split]["names"]) {
      EXPECT_EQ(held_out.count(name.get<std::string>()), 0u) << name;
    }
  }
}

// --meters: JSB pieces take the meter and pickup of the MusicXML chorale they match; the
// alignment check holds them to the real data (a piece that ends on a bar line with that
// pickup), and a MIDI source or a missing folder is refused.
TEST(Prepare, JsbPiecesTakeTheirMetersFromTheMusicXmlChorales) {
  BACHGEN_REQUIRE_DATA(jsb_dir, "jsb-chorales");
  BACHGEN_REQUIRE_DATA(xml_dir, "bach-chorales-musicxml");
  PrepareSettings s;
  s.path = jsb_dir + "/Jsb16thSeparated.json";
  s.meters = xml_dir;
  s.out = testing::temp_path("prepare_meters");
  s.force = true;
  s.progress = false;
  const PrepareResult r = prepare_dataset(s);
  EXPECT_EQ(r.meter_files, 392u);
  EXPECT_EQ(r.meters, 286u);
  const nlohmann::json m = read_json(r.manifest);
  const JsbCorpus jsb = load_jsb(s.path);
  size_t known = 0, bar_ends = 0, pickups = 0;
  for (const char* split : {"train", "valid", "test"}) {
    const auto& list = m["meters"][split];
    ASSERT_EQ(list.size(), jsb.split(split).size()) << split;
    for (size_t i = 0; i < list.size(); ++i) {
      if (list[i].is_null()) continue;
      ++known;
      const int spb = list[i][0], phase = list[i][1];
      EXPECT_TRUE(spb == 16 || spb == 12);
      bar_ends += (jsb.split(split)[i].steps() + static_cast<size_t>(phase)) % static_cast<size_t>(spb) == 0;
      pickups += phase != 0;
    }
  }
  EXPECT_EQ(known, 286u);
  EXPECT_GE(bar_ends, 280u);  // measured 282: the pickup and the length agree
  EXPECT_GE(pickups, 190u);   // measured 198
  s.source = "midi-chorales";
  try {
    prepare_dataset(s);
    ADD_FAILURE() << "--meters with a MIDI source was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("--meters is for the jsb source"), std::string::npos) << e.what();
  }
  s.source = "jsb";
  s.meters = "/no/such/folder";
  try {
    prepare_dataset(s);
    ADD_FAILURE() << "a missing --meters folder was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/no/such/folder"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bachgen::data
