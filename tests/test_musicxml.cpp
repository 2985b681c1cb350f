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

TEST(MusicXml, WrittenValuesFollowTheMeter) {
  using V = std::vector<int>;
  // 4/4: whole and dotted half on the downbeat, half and dotted quarter on beats 1 and 3.
  EXPECT_EQ(written_values(0, 16, 16), V({16}));
  EXPECT_EQ(written_values(0, 12, 16), V({12}));
  EXPECT_EQ(written_values(4, 12, 16), V({4, 8}));     // beats 2-4: quarter tied to half
  EXPECT_EQ(written_values(4, 8, 16), V({4, 4}));      // a half on beat 2 shows the half bar
  EXPECT_EQ(written_values(8, 6, 16), V({6}));
  EXPECT_EQ(written_values(4, 6, 16), V({4, 2}));
  EXPECT_EQ(written_values(0, 10, 16), V({8, 2}));
  EXPECT_EQ(written_values(0, 14, 16), V({8, 6}));
  EXPECT_EQ(written_values(2, 6, 16), V({2, 4}));      // off the beat: 8th tied to quarter
  EXPECT_EQ(written_values(5, 11, 16), V({1, 2, 8}));
  EXPECT_EQ(written_values(1, 3, 16), V({1, 2}));
  EXPECT_EQ(written_values(4, 3, 16), V({3}));
  EXPECT_EQ(written_values(7, 2, 16), V({1, 1}));      // across beat 3's line
  // 3/4: no half bar; a half on beat 2 and a dotted half filling the bar stand alone.
  EXPECT_EQ(written_values(0, 12, 12), V({12}));
  EXPECT_EQ(written_values(4, 8, 12), V({8}));
  EXPECT_EQ(written_values(4, 6, 12), V({6}));
  EXPECT_EQ(written_values(2, 10, 12), V({2, 8}));
  // 3/8 (6 16ths): 8th beats.
  EXPECT_EQ(written_values(0, 6, 6), V({6}));
  EXPECT_EQ(written_values(1, 5, 6), V({1, 4}));
  EXPECT_THROW(written_values(10, 8, 16), std::invalid_argument);
}

TEST(MusicXml, ExactNotesTiesBeamsAndPadding) {
  // Soprano: C5 for 5 steps (quarter + 16th, tied), then D5 across the bar line (11 + 2 steps).
  std::vector<GridStep> steps;
  for (int t = 0; t < 18; ++t) steps.push_back({static_cast<int8_t>(t < 5 ? 72 : 74), 67, 60, 48});
  const std::string x = to_musicxml(grid_of(steps));
  EXPECT_EQ(count(x, "<measure number="), 8u);  // 2 bars x 4 parts; the second padded with rests
  const std::string soprano = x.substr(x.find("<part id=\"P1\">"), x.find("<part id=\"P2\">") - x.find("<part id=\"P1\">"));
  // Beat 2: the C5's tied 16th, D5 as a 16th tied to an 8th: one beam, a second over the 16ths.
  EXPECT_NE(soprano.find("<note><pitch><step>C</step><octave>5</octave></pitch><duration>4</duration>"
                         "<tie type=\"start\"/><voice>1</voice><type>quarter</type><notations><tied type=\"start\"/>"
                         "</notations></note>\n      <note><pitch><step>C</step><octave>5</octave></pitch><duration>1</duration>"
                         "<tie type=\"stop\"/><voice>1</voice><type>16th</type><beam number=\"1\">begin</beam>"
                         "<beam number=\"2\">begin</beam><notations><tied type=\"stop\"/></notations></note>\n"
                         "      <note><pitch><step>D</step><octave>5</octave></pitch><duration>1</duration><tie type=\"start\"/>"
                         "<voice>1</voice><type>16th</type><beam number=\"1\">continue</beam><beam number=\"2\">end</beam>"
                         "<notations><tied type=\"start\"/></notations></note>\n"
                         "      <note><pitch><step>D</step><octave>5</octave></pitch><duration>2</duration><tie type=\"stop\"/>"
                         "<tie type=\"start\"/><voice>1</voice><type>eighth</type><beam number=\"1\">end</beam>"),
            std::string::npos)
      << soprano;
  // Then a half to the bar line, an 8th across it, and rests of an 8th, a quarter and a half.
  EXPECT_NE(soprano.find("<duration>8</duration><tie type=\"stop\"/><tie type=\"start\"/><voice>1</voice><type>half</type>"),
            std::string::npos);
  EXPECT_NE(soprano.find("<duration>2</duration><tie type=\"stop\"/><voice>1</voice><type>eighth</type><notations>"),
            std::string::npos);
  EXPECT_NE(soprano.find("<note><rest/><duration>2</duration><voice>1</voice><type>eighth</type></note>\n"
                         "      <note><rest/><duration>4</duration><voice>1</voice><type>quarter</type></note>\n"
                         "      <note><rest/><duration>8</duration><voice>1</voice><type>half</type></note>"),
            std::string::npos);
  // The alto holds G4 for 18 steps: whole note tied to an 8th.
  EXPECT_NE(x.find("<note><pitch><step>G</step><octave>4</octave></pitch><duration>16</duration><tie type=\"start\"/>"),
            std::string::npos);
  EXPECT_EQ(count(x, "<tie type=\"start\"/>"), count(x, "<tie type=\"stop\"/>"));
  EXPECT_NE(x.find("<clef><sign>F</sign><line>4</line></clef>"), std::string::npos);
  EXPECT_NE(x.find("<clef-octave-change>-1</clef-octave-change>"), std::string::npos);
  EXPECT_NE(x.find("<part-name>Tenor</part-name><part-abbreviation>T.</part-abbreviation>"), std::string::npos);
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

TEST(MusicXml, APickupIsAShortFirstMeasureAndTheLastBarIsShortByAsMuch) {
  // 4/4 with a quarter pickup: 4 + 16 + 12 steps = 32: measures 0 (implicit, a quarter), 1, 2 (3 quarters).
  music::Chorale c;
  for (int t = 0; t < 32; ++t) c.grid.pitches.push_back({static_cast<int8_t>(72 + (t / 4) % 2 * 2), 67, 64, 48});
  c.pickup_steps = 4;
  c.fermatas.assign(32, false);
  c.fermatas[16] = true;  // beat 4 of bar 1
  const std::string x = to_musicxml(c, "pickup");
  EXPECT_EQ(count(x, "<measure number=\"0\" implicit=\"yes\">"), 4u);
  EXPECT_EQ(count(x, "<measure number=\"2\">"), 4u);
  EXPECT_EQ(count(x, "<measure number=\"3\""), 0u);
  EXPECT_EQ(count(x, "<rest"), 0u);  // no lead or trailing rests
  // Each part: the pickup quarter, then 16 and 12 steps.
  const auto parts = read_back(x);
  for (const auto& p : parts) EXPECT_EQ(p.size(), 32u);
  // The fermata: on the soprano's quarter at step 16 (a note of its own) and on the notes the
  // other voices hold through it.
  EXPECT_EQ(count(x, "<fermata type=\"upright\"/>"), 4u);
  const std::string soprano = x.substr(0, x.find("<part id=\"P2\">"));
  const size_t fermata = soprano.find("<fermata");
  ASSERT_NE(fermata, std::string::npos);
  EXPECT_EQ(soprano.rfind("<step>C</step>", fermata), soprano.rfind("<pitch>", fermata) + 7);
  // A pickup of a full bar is refused, naming it.
  c.pickup_steps = 16;
  EXPECT_THROW(to_musicxml(c, "bad"), std::invalid_argument);
}

TEST(MusicXml, TheHymnalLayoutPutsFourVoicesOnTwoStaves) {
  music::Chorale c;
  for (int t = 0; t < 20; ++t) c.grid.pitches.push_back({static_cast<int8_t>(72 + (t / 4) % 2 * 2), 67, 64, 48});
  c.pickup_steps = 4;
  const std::string x = to_musicxml(c, "hymn", Staves::kTwo);
  EXPECT_EQ(count(x, "<part id="), 1u);
  EXPECT_NE(x.find("<staves>2</staves><clef number=\"1\"><sign>G</sign><line>2</line></clef><clef number=\"2\"><sign>F</sign>"),
            std::string::npos);
  // Two measures (the pickup and one full), each: S, then A, T, B after a <backup> of its length.
  EXPECT_EQ(count(x, "<backup><duration>4</duration></backup>"), 3u);
  EXPECT_EQ(count(x, "<backup><duration>16</duration></backup>"), 3u);
  // Soprano and tenor stems up, alto and bass down; S and A on staff 1, T and B on staff 2.
  EXPECT_NE(x.find("<voice>1</voice><type>quarter</type><stem>up</stem><staff>1</staff>"), std::string::npos);
  EXPECT_NE(x.find("<voice>2</voice><type>quarter</type><stem>down</stem><staff>1</staff>"), std::string::npos);
  EXPECT_NE(x.find("<voice>3</voice><type>quarter</type><stem>up</stem><staff>2</staff>"), std::string::npos);
  EXPECT_NE(x.find("<voice>4</voice><type>quarter</type><stem>down</stem><staff>2</staff>"), std::string::npos);
  EXPECT_EQ(count(x, "<note>"), count(to_musicxml(c, "hymn"), "<note>"));  // the same notes as four parts
}

TEST(MusicXml, SpellsTheLeadingToneOfDMinorAsCSharp) {
  // D minor, the dominant's C# and the raised F# of G minor's dominant, as Bach writes them.
  std::vector<GridStep> steps;
  for (auto chord : std::vector<GridStep>{{74, 69, 65, 50}, {73, 69, 64, 45}, {74, 69, 66, 50}, {70, 67, 62, 43}, {69, 65, 62, 50}}) {
    for (int k = 0; k < 4; ++k) steps.push_back(chord);
  }
  const std::string x = to_musicxml(grid_of(steps));
  EXPECT_NE(x.find("<fifths>-1</fifths><mode>minor</mode>"), std::string::npos) << x;
  EXPECT_NE(x.find("<step>C</step><alter>1</alter><octave>5</octave>"), std::string::npos);
  EXPECT_NE(x.find("<step>F</step><alter>1</alter><octave>4</octave>"), std::string::npos);
  EXPECT_EQ(x.find("<alter>-1</alter><octave>5</octave>"), std::string::npos);  // no Db5
  EXPECT_EQ(x.find("<step>G</step><alter>-1</alter>"), std::string::npos);      // no Gb
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
