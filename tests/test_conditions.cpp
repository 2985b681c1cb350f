// The composer's conditions (tokenize/conditions.h) and where they come from
// (data/piece_conditions.h): hand-computed indices, keys that move with transposition, each
// piece's length and key from its tokens, and the manifest's meters read or refused clearly.
#include <gtest/gtest.h>

#include <fstream>
#include <tuple>

#include "bachgen/data/piece_conditions.h"
#include "bachgen/io/files.h"
#include "bachgen/tokenize/satb16.h"
#include "midi_bytes.h"

namespace bachgen {
namespace {

using tokenize::PieceConditions;

TEST(Conditions, BarIndicesFollowTheMeterAndThePickup) {
  // 4/4 after a quarter pickup: step 0 is the 13th 16th of its bar, step 4 the downbeat.
  const PieceConditions c{16, 12, 100, 2};
  EXPECT_EQ(tokenize::bar_index(c, 0), 1 + 12);
  EXPECT_EQ(tokenize::bar_index(c, 3), 1 + 15);
  EXPECT_EQ(tokenize::bar_index(c, 4), 1 + 0);
  EXPECT_EQ(tokenize::bar_index(c, -1), 1 + 11);  // the BOS, one 16th before
  // 3/4 from a downbeat: indices 17..28.
  const PieceConditions waltz{12, 0, 48, -1};
  EXPECT_EQ(tokenize::bar_index(waltz, 0), 17);
  EXPECT_EQ(tokenize::bar_index(waltz, 11), 28);
  EXPECT_EQ(tokenize::bar_index(waltz, 12), 17);
  // Unknown or other meters: 0.
  EXPECT_EQ(tokenize::bar_index(PieceConditions{}, 5), 0);
  EXPECT_EQ(tokenize::bar_index(PieceConditions{24, 0, 10, 0}, 5), 0);
}

TEST(Conditions, EndIndicesCountTheStepsLeft) {
  const PieceConditions c{16, 0, 300, -1};
  EXPECT_EQ(tokenize::end_index(c, 299), 1);       // the last step: none left after it
  EXPECT_EQ(tokenize::end_index(c, 298), 2);
  EXPECT_EQ(tokenize::end_index(c, 300 - 64), 64);  // 63 left
  EXPECT_EQ(tokenize::end_index(c, 300 - 65), 65);  // 64 left: the first bucket of 32
  EXPECT_EQ(tokenize::end_index(c, 300 - 96), 65);  // 95 left
  EXPECT_EQ(tokenize::end_index(c, 300 - 97), 66);  // 96 left
  EXPECT_EQ(tokenize::end_index(c, -1), 71);        // 300 left: the last bucket (256 and more)
  EXPECT_EQ(tokenize::end_index(c, 400), 1);        // past the end: clamped
  EXPECT_EQ(tokenize::end_index(PieceConditions{}, 3), 0);
  EXPECT_LT(tokenize::end_index(c, -1), tokenize::kEndIndices);
}

TEST(Conditions, KeysMoveWithTransposition) {
  EXPECT_EQ(tokenize::key_index(PieceConditions{0, 0, 0, 14}), 15);
  EXPECT_EQ(tokenize::key_index(PieceConditions{}), 0);
  EXPECT_EQ(tokenize::transposed_key(14, 3), 17);   // D minor up a minor third: F minor
  EXPECT_EQ(tokenize::transposed_key(11, 2), 1);    // B major up a tone: C# major
  EXPECT_EQ(tokenize::transposed_key(12, -1), 23);  // C minor down a semitone: B minor
  EXPECT_EQ(tokenize::transposed_key(-1, 5), -1);
  EXPECT_EQ(tokenize::describe(PieceConditions{16, 12, 244, 14}), "4/4, pickup 4, 244 steps, D minor");
  EXPECT_EQ(tokenize::describe(PieceConditions{}), "meter unknown, length unknown, key unknown");
}

TEST(PieceConditions, LengthAndKeyComeFromTheTokens) {
  data::TokenShard shard;
  shard.vocab = tokenize::VocabId::kSatb16;
  music::ChoraleGrid g;  // a D major cadence, 8 steps: D A D A / A E A ... / D F# A D
  for (int t = 0; t < 4; ++t) g.pitches.push_back({74, 69, 66, 50});
  for (int t = 0; t < 2; ++t) g.pitches.push_back({73, 69, 64, 57});
  for (int t = 0; t < 2; ++t) g.pitches.push_back({74, 66, 62, 50});
  shard.add_piece(tokenize::encode_satb16(g));
  shard.add_piece(tokenize::encode_satb16(g));
  const std::vector<std::optional<data::PieceMeter>> meters = {data::PieceMeter{16, 12}};
  const auto c = data::shard_conditions(shard, meters);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0], (PieceConditions{16, 12, 8, 2}));
  EXPECT_EQ(c[1], (PieceConditions{0, 0, 8, 2}));  // no meter for the second piece
}

std::string write_manifest(const std::string& name, const std::string& meters_json) {
  const std::string dir = testing::temp_path(name);
  io::make_directories(dir);
  std::ofstream(dir + "/manifest.json") << "{\"format\": \"bachgen-prepare\"" << (meters_json.empty() ? "" : ", \"meters\": " + meters_json) << "}";
  return dir;
}

TEST(PieceConditions, MetersAreReadFromTheManifestOrRefusedClearly) {
  const std::string good = write_manifest("meters_good", R"({"train": [[16, 12], null, [12, 0]], "valid": []})");
  const auto train = data::read_split_meters(good, "train");
  ASSERT_EQ(train.size(), 3u);
  EXPECT_EQ(train[0]->bar_phase, 12);
  EXPECT_FALSE(train[1].has_value());
  EXPECT_EQ(train[2]->steps_per_bar, 12);
  EXPECT_TRUE(data::read_split_meters(good, "test").empty());
  EXPECT_TRUE(data::read_split_meters(write_manifest("meters_none", ""), "train").empty());
  EXPECT_TRUE(data::read_split_meters(testing::temp_path("meters_no_folder"), "train").empty());
  for (const auto& [name, text, problem] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"meters_bad_phase", R"({"train": [[16, 16]]})", "meters.train[0]: steps per bar must be 16 or 12"},
           {"meters_bad_meter", R"({"train": [null, [7, 0]]})", "meters.train[1]"},
           {"meters_bad_shape", R"({"train": [[16]]})", "is not [steps_per_bar, bar_phase] or null"},
           {"meters_bad_list", R"({"train": 3})", "meters.train is not an array"},
           {"meters_strings", R"({"train": [["16", "0"]]})", "is not [steps_per_bar, bar_phase]"}}) {
    const std::string dir = write_manifest(name, text);
    try {
      data::read_split_meters(dir, "train");
      ADD_FAILURE() << name << " was accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(dir + "/manifest.json"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(problem), std::string::npos) << e.what();
    }
  }
  // Not JSON at all.
  const std::string broken = testing::temp_path("meters_broken");
  io::make_directories(broken);
  std::ofstream(broken + "/manifest.json") << "{\"meters\": [";
  EXPECT_THROW(data::read_split_meters(broken, "train"), std::runtime_error);
}

}  // namespace
}  // namespace bachgen
