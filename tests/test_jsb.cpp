// The JSB Chorales loader: the published split figures, exact grid round trips through both
// chorale vocabularies and through a Score, and clear errors for malformed files.
#include <gtest/gtest.h>

#include <algorithm>

#include "bachgen/data/jsb.h"
#include "bachgen/io/files.h"
#include "bachgen/music/score.h"
#include "bachgen/tokenize/satb16.h"
#include "corpus.h"

namespace bachgen::data {
namespace {

TEST(Jsb, ParsesFloatsAndNulls) {
  const JsbCorpus c = parse_jsb(
      R"({"train": [[[74, 70, 65, 58], [74.0, 70, 65, null]]], "valid": [], "test": [[]]})",
      "x.json");
  ASSERT_EQ(c.train.size(), 1u);
  EXPECT_EQ(c.train[0].pitches[1], (music::GridStep{74, 70, 65, music::kSilent}));
  EXPECT_FALSE(c.train[0].knows_onsets());
  EXPECT_TRUE(c.valid.empty());
  EXPECT_EQ(c.split("test").size(), 1u);
  EXPECT_THROW(c.split("dev"), std::invalid_argument);
}

TEST(Jsb, NamesTheProblemOfAMalformedFile) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"train": [)", "x.json: byte 12: not valid JSON"},
      {R"([1, 2])", "x.json: expected an object with train, valid and test"},
      {R"({"train": [[[1.4e888, 60, 60, 60]]]})",  // found by fuzz.jsb_json
       "x.json: not valid JSON: [json.exception.out_of_range.406] number overflow parsing "
       "'1.4e888'"},
      {R"({"train": [], "valid": []})", "x.json: no \"test\" split"},
      {R"({"train": [[[60, 60, 60]]], "valid": [], "test": []})",
       "x.json: train[0] step 0 is not 4 pitches"},
      {R"({"train": [], "valid": [[[60, 60, 60, 60], [60, 60, 60.5, 60]]], "test": []})",
       "x.json: valid[0] step 1 voice 2: 60.5 is not a MIDI pitch or -1"},
      {R"({"train": [], "valid": [], "test": [[[60, "C", 60, 60]]]})",
       "x.json: test[0] step 0 voice 1 is not a number"},
  };
  for (const auto& [text, message] : cases) {
    try {
      parse_jsb(text, "x.json");
      ADD_FAILURE() << text;
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()), message);
    }
  }
  EXPECT_THROW(load_jsb("/nonexistent.json"), std::runtime_error);
}

TEST(Jsb, TheRealFileHasThePublishedSplit) {
  BACHGEN_REQUIRE_DATA(dir, "jsb-chorales");
  const JsbCorpus c = load_jsb(dir + "/Jsb16thSeparated.json");
  struct Row {
    const char* split;
    size_t pieces, min_steps, max_steps, total_steps;
  };
  // shared/data/README.md
  const std::vector<Row> table = {{"train", 229, 100, 516, 55228},
                                  {"valid", 76, 128, 576, 18408},
                                  {"test", 77, 128, 640, 18900}};
  for (const Row& r : table) {
    const auto& pieces = c.split(r.split);
    EXPECT_EQ(pieces.size(), r.pieces) << r.split;
    size_t lo = SIZE_MAX, hi = 0, total = 0;
    for (const music::ChoraleGrid& g : pieces) {
      lo = std::min(lo, g.steps());
      hi = std::max(hi, g.steps());
      total += g.steps();
      for (const music::GridStep& s : g.pitches) {
        for (int8_t p : s) EXPECT_TRUE(p == music::kSilent || (p >= 36 && p <= 81)) << r.split;
      }
    }
    EXPECT_EQ(lo, r.min_steps) << r.split;
    EXPECT_EQ(hi, r.max_steps) << r.split;
    EXPECT_EQ(total, r.total_steps) << r.split;
  }
  EXPECT_EQ(c.train[0].pitches[0], (music::GridStep{74, 70, 65, 58}));
}

TEST(Jsb, EveryPieceRoundTripsThroughTokensAndScores) {
  BACHGEN_REQUIRE_DATA(dir, "jsb-chorales");
  const JsbCorpus c = load_jsb(dir + "/Jsb16thSeparated.json");
  size_t tokens = 0;
  for (const char* split : {"train", "valid", "test"}) {
    for (const music::ChoraleGrid& g : c.split(split)) {
      const std::vector<int32_t> t = tokenize::encode_satb16(g);
      tokens += t.size() - 2;
      ASSERT_EQ(tokenize::decode_satb16(t), g);
      const music::ChoraleGrid with_onsets = tokenize::decode_satb16_onset(tokenize::encode_satb16_onset(g));
      ASSERT_EQ(with_onsets.pitches, g.pitches);
      // Score: holds become notes, and the grid comes back with onset flags by the hold rule.
      const music::ChoraleGrid back = music::score_to_grid(music::grid_to_score(g));
      ASSERT_EQ(back.pitches, g.pitches);
      ASSERT_EQ(back, with_onsets);
    }
  }
  EXPECT_EQ(tokens, 220912u + 73632u + 75600u);  // 4 tokens per step, README figures
}

TEST(Jsb, OneParserForPieceReferences) {
  const JsbRef a = parse_jsb_ref("test:3", "default.json");
  EXPECT_EQ(a.file, "default.json");
  EXPECT_EQ(a.split, "test");
  EXPECT_EQ(a.index, 3);
  const JsbRef b = parse_jsb_ref("/d/Jsb.json:valid:0", "default.json");
  EXPECT_EQ(b.file, "/d/Jsb.json");
  EXPECT_EQ(b.split, "valid");
  EXPECT_EQ(b.index, 0);
  const JsbRef whole = parse_jsb_ref("x.json:train", "", /*index_required=*/false);
  EXPECT_EQ(whole.index, -1);
  for (const char* bad : {"test:3x", "test:-1", "test: 3", "test:", "test", "tset:1", "x.json:train:1:2", "test:99999999999"}) {
    EXPECT_THROW(parse_jsb_ref(bad, "default.json"), std::invalid_argument) << bad;
  }
  EXPECT_TRUE(looks_like_jsb_ref("test:1"));
  EXPECT_TRUE(looks_like_jsb_ref("a.json:valid:2"));
  EXPECT_FALSE(looks_like_jsb_ref("tune.mid"));
  const std::string path = std::string(BACHGEN_TEST_TMP) + "/refs.json";
  io::write_file_atomically(path, std::string(R"({"train": [], "valid": [], "test": [[[60, 55, 52, 48]]]})"));
  EXPECT_EQ(load_jsb_piece(parse_jsb_ref(path + ":test:0", "")).pitches.size(), 1u);
  try {
    load_jsb_piece(parse_jsb_ref(path + ":test:1", ""));
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no piece 1 in test (0-0)"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bachgen::data
