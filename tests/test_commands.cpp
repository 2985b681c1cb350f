// The commands layer's torch-free reports as library functions: `inspect` over files made here
// (a good one, a damaged one, a folder), in the order the CLI prints them, with its exit code;
// `analyze` with a JSB reference written in code, as a whole split and as one piece; the style
// table's columns.
#include "bachgen/commands/analyze_command.h"
#include "bachgen/commands/inspect_command.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "bachgen/io/files.h"
#include "bachgen/midi/midi_writer.h"
#include "bachgen/music/score.h"
#include "bachgen/music/style_report.h"

namespace bachgen::commands {
namespace {

std::string tmp(const std::string& name) { return std::string(BACHGEN_TEST_TMP) + "/commands-" + name; }

std::string chorale_file(const std::string& name) {
  music::ChoraleGrid g;
  g.pitches = {{72, 67, 64, 48}, {74, 69, 65, 50}, {74, 69, 65, 50}, {71, 76, 65, 50}};
  const std::string path = tmp(name);
  midi::write_midi_file(path, music::score_to_midi(music::grid_to_score(g)));
  return path;
}

TEST(InspectReport, SummariesInOrderAndEveryFailureNamed) {
  const std::string good = chorale_file("good.mid");
  const std::string bad = tmp("bad.mid");
  io::write_file_atomically(bad, std::string("MThd\0\0\0\6", 8));
  InspectSettings s;
  s.files = {good, bad};
  s.table = true;
  const InspectReport r = inspect_report(s);
  EXPECT_EQ(r.exit_code, 1);
  ASSERT_GE(r.chunks.size(), 4u);
  EXPECT_EQ(r.chunks.front().first, 1);  // the table's header first
  EXPECT_NE(r.text(1).find("1 files read, 1 failed; 10 notes"), std::string::npos) << r.text(1);
  EXPECT_NE(r.text(2).find("bachgen inspect: " + bad), std::string::npos) << r.text(2);
  EXPECT_NE(r.text(2).find("1 of 2 files could not be read"), std::string::npos) << r.text(2);
  s.files = {good};
  s.table = false;
  s.json = true;
  const InspectReport one = inspect_report(s);
  EXPECT_EQ(one.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(one.text(1))["notes"], 10);  // held notes are one
  EXPECT_TRUE(one.text(2).empty());
  s.files = {};
  EXPECT_EQ(inspect_report(s).exit_code, 1);
}

TEST(AnalyzeReport, AReferenceSplitOrOnePieceWrittenInCode) {
  const std::string jsb = tmp("jsb.json");
  io::write_file_atomically(jsb, std::string(R"({"train": [], "valid": [], "test": [[[72, 67, 64, 48], [74, 69, 65, 50]], [[60, 55, 52, 48]]]})"));
  AnalyzeSettings s;
  s.inputs = {chorale_file("a.mid")};
  s.reference = jsb;
  s.json = true;
  nlohmann::json j = nlohmann::json::parse(analyze_report(s));
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[1]["name"], "Bach (JSB test)");
  EXPECT_EQ(j[1]["notes"], 12);  // 2 + 1 sonorities of four notes each: 8 + 4
  s.reference = jsb + ":test:1";
  j = nlohmann::json::parse(analyze_report(s));
  EXPECT_EQ(j[1]["name"], "Bach (JSB test:1)");
  EXPECT_EQ(j[1]["notes"], 4);
  s.reference = jsb + ":test:9";
  EXPECT_THROW(analyze_report(s), std::runtime_error);
  s.reference = jsb + ":tset";
  EXPECT_THROW(analyze_report(s), std::runtime_error);
}

TEST(StyleReport, ATableRowPerColumn) {
  music::StyleColumn a;
  a.name = "mine.mid";
  a.key = "D minor";
  music::StyleColumn bach;
  bach.name = "Bach";
  a.stats.sonorities = 7;
  a.figures.pieces = 1;
  a.figures.onsets = 8;
  a.figures.odd_step_onsets = 2;
  const std::string table = music::style_report({a, bach}, false);
  EXPECT_NE(table.find("mine.mid"), std::string::npos);
  EXPECT_NE(table.find("Bach"), std::string::npos);
  EXPECT_NE(table.find("odd16 %"), std::string::npos);
  const nlohmann::json j = nlohmann::json::parse(music::style_report({a}, true))[0];
  EXPECT_EQ(j["sonorities"], 7);
  EXPECT_DOUBLE_EQ(j["odd_step_onsets_percent"].get<double>(), 25.0);
  EXPECT_EQ(j["key"], "D minor");
  EXPECT_NE(table.find("D minor"), std::string::npos);
  EXPECT_FALSE(nlohmann::json::parse(music::style_report({bach}, true))[0].contains("key"));
}

}  // namespace
}  // namespace bachgen::commands
