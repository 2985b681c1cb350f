// The MIDI chorale corpus: file names, the BWV split (checked against FNV-1a values computed
// independently in Python), sequence similarity, and the JSB matcher on built and real data.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "bachgen/data/chorale_corpus.h"
#include "bachgen/midi/midi_reader.h"
#include "bachgen/music/score.h"
#include "corpus.h"

namespace bachgen::data {
namespace {

TEST(ChoraleCorpus, ParsesFileNames) {
  const auto a = parse_chorale_file_name("000206b_.mid");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->bwv, 2);
  EXPECT_EQ(a->movement, 6);
  EXPECT_EQ(a->variant, "b_");
  const auto b = parse_chorale_file_name("some/dir/003604b2.mid");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->bwv, 36);
  EXPECT_EQ(b->movement, 4);
  EXPECT_EQ(b->variant, "b2");
  EXPECT_FALSE(parse_chorale_file_name("readme"));
  EXPECT_FALSE(parse_chorale_file_name("00x206b_.mid"));
}

TEST(ChoraleCorpus, SplitByBwvIsAFixedHash) {
  // FNV-1a of "BWV n" mod 100, computed with Python: 63, 82, 1, 20, 88, 38, 95.
  const std::vector<std::pair<int, Split>> table = {
      {1, Split::kTrain}, {2, Split::kValid},  {3, Split::kTrain}, {4, Split::kTrain},
      {40, Split::kValid}, {244, Split::kTrain}, {438, Split::kTest}};
  for (const auto& [bwv, split] : table) EXPECT_EQ(split_of_bwv(bwv), split) << bwv;
  EXPECT_EQ(parse_split("valid"), Split::kValid);
  EXPECT_THROW(parse_split("dev"), std::invalid_argument);
}

TEST(ChoraleCorpus, SequenceSimilarity) {
  EXPECT_DOUBLE_EQ(sequence_similarity({1, 2, 3}, {1, 2, 3}), 1.0);
  EXPECT_DOUBLE_EQ(sequence_similarity({1, 2, 3}, {1, 3}), 1.0 - 1.0 / 3);
  EXPECT_DOUBLE_EQ(sequence_similarity({1, 2, 3, 4}, {2, 2, 3, 5}), 0.5);
  EXPECT_DOUBLE_EQ(sequence_similarity({}, {}), 1.0);
  EXPECT_DOUBLE_EQ(sequence_similarity({1}, {}), 0.0);
}

TEST(ChoraleCorpus, MatchesATransposedCopyAndNothingElse) {
  music::ChoraleGrid a;
  const int sop[] = {67, 67, 69, 71, 71, 72, 74, 72, 71, 69, 67, 67};
  const int bass[] = {43, 43, 45, 47, 47, 48, 50, 48, 47, 45, 43, 43};
  for (int i = 0; i < 12; ++i) a.pitches.push_back({static_cast<int8_t>(sop[i]), 62, 55, static_cast<int8_t>(bass[i])});
  music::ChoraleGrid transposed = a;
  for (auto& s : transposed.pitches) {
    for (auto& p : s) p = static_cast<int8_t>(p + 2);
  }
  music::ChoraleGrid other = a;
  std::reverse(other.pitches.begin(), other.pitches.end());
  other.pitches[3][0] = 60;
  JsbCorpus jsb;
  jsb.train = {other};
  jsb.test = {transposed};
  const auto signature = signature_of(a);
  EXPECT_EQ(signature.soprano, (std::vector<int8_t>{2, 2, 1, 2, -2, -1, -2, -2}));
  const std::vector<ChoraleMatch> matches = match_chorales({a}, jsb);
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(matches[0].jsb_split, Split::kTest);
  EXPECT_EQ(matches[0].jsb_index, 0u);
  EXPECT_DOUBLE_EQ(matches[0].soprano, 1.0);
}

TEST(ChoraleCorpus, MostMidiChoralesAreFoundInJsb) {
  BACHGEN_REQUIRE_DATA(midi_dir, "bach-chorales-midi/satb");
  BACHGEN_REQUIRE_DATA(jsb_dir, "jsb-chorales");
  std::vector<music::ChoraleGrid> grids;
  std::map<Split, int> files_per_split;
  for (const std::string& name : testing::list_files(midi_dir, ".mid")) {
    grids.push_back(music::score_to_grid(music::score_from_midi(midi::read_midi_file(midi_dir + "/" + name))));
    ++files_per_split[split_of_bwv(parse_chorale_file_name(name)->bwv)];
  }
  EXPECT_EQ(files_per_split[Split::kTrain], 304);
  EXPECT_EQ(files_per_split[Split::kValid], 29);
  EXPECT_EQ(files_per_split[Split::kTest], 40);
  const std::vector<ChoraleMatch> matches = match_chorales(grids, load_jsb(jsb_dir + "/Jsb16thSeparated.json"));
  std::set<size_t> matched;
  for (const ChoraleMatch& m : matches) matched.insert(m.midi_index);
  // Measured: 295 of 373 (the rest are variants and chorales JSB does not hold).
  EXPECT_EQ(matched.size(), 295u);
}

}  // namespace
}  // namespace bachgen::data
