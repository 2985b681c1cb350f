// MusicXML out: exact note elements for hand-made bars, ties across bar lines and inside odd
// values, the key guess, and a round trip of every JSB test chorale (the written parts read
// back step by step give the grid again).
#include "bachgen/music/key.h"
#include "bachgen/render/musicxml.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>

#include "bachgen/data/jsb.h"
#include "corpus.h"

namespace bachgen::render {

using music::GridStep;
using music::kSilent;
using music::kVoices;
using music::guess_key;
namespace {

ChoraleGrid grid_of(const std::vector<GridStep>& steps) {
  ChoraleGrid g;
  g.pitches = steps;
  return g;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Reads the parts back: per part, the sounding pitch of every 16th step (kSilent for rests).
std::vector<std::vector<int>> read_back(const std::string& xml) {
  static const std::map<char, int> base{{'C', 0}, {'D', 2}, {'E', 4}, {'F', 5}, {'G', 7}, {'A', 9}, {'B', 11}};
  std::vector<std::vector<int>> parts;
  const std::regex note(R"(<note>(.*?)</note>)");
  const std::regex pitch(R"(<step>([A-G])</step>(?:<alter>(-?\d)</alter>)?<octave>(\d)</octave>)");
  const std::regex duration(R"(<duration>(\d+)</duration>)");
  size_t part_at = 0;
  while ((part_at = xml.find("<part id=", part_at)) != std::string::npos) {
    const size_t end = xml.find("</part>", part_at);
    const std::string body = xml.substr(part_at, end - part_at);
    std::vector<int> steps;
    for (auto it = std::sregex_iterator(body.begin(), body.end(), note); it != std::sregex_iterator(); ++it) {
      const std::string n = (*it)[1];
      std::smatch m;
      int midi = kSilent;
      if (std::regex_search(n, m, pitch)) {
        midi = 12 * (std::stoi(m[3]) + 1) + base.at(m[1].str()[0]) + (m[2].matched ? std::stoi(m[2]) : 0);
      }
      std::regex_search(n, m, duration);
      for (int k = 0; k < std::stoi(m[1]); ++k) steps.push_back(midi);
    }
    parts.push_back(steps);
    part_at = end;
  }
  return parts;
}

TEST(MusicXml, ExactNotesTiesAndPadding) {
  // Soprano: C5 for 5 steps (quarter + 16th, tied), then D5 across the bar line (11 + 2 steps).
  std::vector<GridStep> steps;
  for (int t = 0; t < 18; ++t) steps.push_back({static_cast<int8_t>(t < 5 ? 72 : 74), 67, 60, 48});
  const std::string x = to_musicxml(grid_of(steps));
  EXPECT_EQ(count(x, "<measure number="), 8u);  // 2 bars x 4 parts; the second padded with rests
  EXPECT_NE(x.find("<note><pitch><step>C</step><octave>5</octave></pitch><duration>4</duration>"
                   "<tie type=\"start\"/><voice>1</voice><type>quarter</type><notations><tied type=\"start\"/>"
                   "</notations></note>\n      <note><pitch><step>C</step><octave>5</octave></pitch><duration>1</duration>"
                   "<tie type=\"stop\"/><voice>1</voice><type>16th</type><notations><tied type=\"stop\"/></notations></note>"),
            std::string::npos)
      << x;
  // D5: 8 + 3 in bar 1 (tied), then 2 in bar 2 (tied from bar 1), then a rest of 14 = 12 + 2.
  EXPECT_NE(x.find("<duration>3</duration><tie type=\"stop\"/><tie type=\"start\"/><voice>1</voice><type>eighth</type><dot/>"),
            std::string::npos) << x;
  EXPECT_NE(x.find("<note><rest/><duration>12</duration><voice>1</voice><type>half</type><dot/></note>"), std::string::npos);
  // The alto holds G4 for 18 steps: whole note tied to an eighth.
  EXPECT_NE(x.find("<note><pitch><step>G</step><octave>4</octave></pitch><duration>16</duration><tie type=\"start\"/>"),
            std::string::npos);
  EXPECT_EQ(count(x, "<tie type=\"start\"/>"), count(x, "<tie type=\"stop\"/>"));
  EXPECT_NE(x.find("<clef><sign>F</sign><line>4</line></clef>"), std::string::npos);
  EXPECT_NE(x.find("<clef-octave-change>-1</clef-octave-change>"), std::string::npos);
  // Every measure of every part holds exactly 16 steps.
  const auto parts = read_back(x);
  ASSERT_EQ(parts.size(), 4u);
  for (const auto& p : parts) EXPECT_EQ(p.size(), 32u);
  // Repeated notes stay separate when the grid knows onsets.
  ChoraleGrid repeated = grid_of({{72, 67, 60, 48}, {72, 67, 60, 48}});
  repeated.onsets = {{true, true, true, true}, {true, false, false, false}};
  const std::string r = to_musicxml(repeated);
  EXPECT_EQ(count(r.substr(r.find("<part id=\"P1\">"), r.find("<part id=\"P2\">") - r.find("<part id=\"P1\">")),
                  "<step>C</step>"), 2u);
  // The title is escaped.
  MusicXmlOptions o;
  o.title = "Bach & <sons>";
  EXPECT_NE(to_musicxml(repeated, o).find("<work-title>Bach &amp; &lt;sons&gt;</work-title>"), std::string::npos);
}

TEST(MusicXml, KeyGuesses) {
  std::vector<GridStep> c_major, d_minor, a_major;
  for (int p : {60, 62, 64, 65, 67, 69, 71, 72, 67, 64, 60}) c_major.push_back({static_cast<int8_t>(p + 12), 67, 64, 48});
  for (int p : {62, 64, 65, 67, 69, 70, 73, 74, 69, 65, 62}) d_minor.push_back({static_cast<int8_t>(p + 12), 69, 65, 50});
  for (int p : {69, 71, 73, 74, 76, 78, 80, 81, 76, 73, 69}) a_major.push_back({static_cast<int8_t>(p), 64, 61, 45});
  EXPECT_EQ(guess_key(grid_of(c_major)).name(), "C major");
  EXPECT_EQ(guess_key(grid_of(c_major)).fifths, 0);
  EXPECT_EQ(guess_key(grid_of(d_minor)).name(), "D minor");
  EXPECT_EQ(guess_key(grid_of(d_minor)).fifths, -1);
  EXPECT_EQ(guess_key(grid_of(a_major)).name(), "A major");
  EXPECT_EQ(guess_key(grid_of(a_major)).fifths, 3);
  // Spelling follows the key: B-flat in D minor, C-sharp too (the leading tone is a sharp).
  const std::string x = to_musicxml(grid_of(d_minor));
  EXPECT_NE(x.find("<step>B</step><alter>-1</alter>"), std::string::npos);
}

TEST(MusicXml, EveryJsbTestChoraleReadsBack) {
  BACHGEN_REQUIRE_DATA(dir, "jsb-chorales");
  const data::JsbCorpus corpus = data::load_jsb(dir + "/Jsb16thSeparated.json");
  for (size_t i = 0; i < corpus.test.size(); ++i) {
    const ChoraleGrid& g = corpus.test[i];
    const auto parts = read_back(to_musicxml(g));
    ASSERT_EQ(parts.size(), 4u);
    const size_t padded = (g.steps() + 15) / 16 * 16;
    for (int v = 0; v < 4; ++v) {
      ASSERT_EQ(parts[static_cast<size_t>(v)].size(), padded) << "test/" << i;
      for (size_t t = 0; t < padded; ++t) {
        const int want = t < g.steps() ? g.pitches[t][static_cast<size_t>(v)] : kSilent;
        ASSERT_EQ(parts[static_cast<size_t>(v)][t], want) << "test/" << i << " voice " << v << " step " << t;
      }
    }
  }
}

}  // namespace
}  // namespace bachgen::render
