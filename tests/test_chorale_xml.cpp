// Four-part MusicXML into a Chorale (music/chorale_xml.h): a hand-written score whose every
// step is known, part picking by name, clear errors; and the transcriber's MusicXML chorales
// against the MIDI files of the same names, step by step.
#include "bachgen/music/chorale_xml.h"

#include <gtest/gtest.h>

#include "bachgen/midi/midi_reader.h"
#include "bachgen/music/score.h"
#include "corpus.h"

namespace bachgen::music {
namespace {

std::string note(const std::string& step, int alter, int octave, int duration, const std::string& extra = "") {
  return "<note><pitch><step>" + step + "</step>" + (alter != 0 ? "<alter>" + std::to_string(alter) + "</alter>" : "") + "<octave>" +
         std::to_string(octave) + "</octave></pitch><duration>" + std::to_string(duration) + "</duration>" + extra + "</note>";
}
const std::string kFermata = "<notations><fermata type=\"upright\"/></notations>";

std::string part(const std::string& id, const std::string& pickup, const std::string& bar, bool attributes = true, int beats = 4) {
  return "<part id=\"" + id + "\"><measure number=\"0\" implicit=\"yes\">" +
         (attributes ? "<attributes><divisions>2</divisions><key><fifths>1</fifths><mode>minor</mode></key><time><beats>" +
                           std::to_string(beats) + "</beats><beat-type>4</beat-type></time></attributes>"
                     : "") +
         pickup + "</measure><measure number=\"1\">" + bar + "</measure></part>";
}

std::string score(const std::vector<std::pair<std::string, std::string>>& names, const std::string& parts) {
  std::string list = "<part-list>";
  for (const auto& [id, name] : names) list += "<score-part id=\"" + id + "\"><part-name>" + name + "</part-name></score-part>";
  return "<?xml version=\"1.0\"?><score-partwise>" + list + "</part-list>" + parts + "</score-partwise>";
}

// E minor, a quarter's pickup, one bar ending on a fermata; the tenor repeats E4, the bass has
// a divisi octave (the lowest note is read).
const std::string kSoprano = part("P1", note("B", 0, 4, 2), note("G", 0, 5, 2) + note("F", 1, 5, 2) + note("E", 0, 5, 4, kFermata));
const std::string kAlto = part("P2", note("G", 0, 4, 2), note("B", 0, 4, 2) + note("A", 0, 4, 2) + note("G", 0, 4, 4, kFermata));
const std::string kTenor = part("P3", note("E", 0, 4, 2), note("E", 0, 4, 2) + note("D", 1, 4, 2) + note("B", 0, 3, 4, kFermata));
const std::string kBass = part("P4", note("E", 0, 3, 2),
                               note("E", 0, 3, 2) + "<note><chord/><pitch><step>E</step><octave>2</octave></pitch><duration>2</duration></note>" +
                                   note("B", 0, 2, 2) + note("E", 0, 3, 4, kFermata));

TEST(ChoraleXml, AHandWrittenChorale) {
  const Chorale c = parse_chorale_musicxml(score({{"P1", "S"}, {"P2", "A"}, {"P3", "T"}, {"P4", "B"}}, kSoprano + kAlto + kTenor + kBass), "x.xml");
  EXPECT_EQ(c.steps_per_bar, 16);
  EXPECT_EQ(c.pickup_steps, 4);
  ASSERT_TRUE(c.key);
  EXPECT_EQ(c.key->name(), "E minor");
  ASSERT_EQ(c.grid.steps(), 20u);
  const GridStep first{71, 67, 64, 52}, beat_one{79, 71, 64, 40}, last{76, 67, 59, 52};
  EXPECT_EQ(c.grid.pitches[0], first);
  EXPECT_EQ(c.grid.pitches[4], beat_one);
  EXPECT_EQ(c.grid.pitches[19], last);
  EXPECT_EQ(c.grid.pitches[8][0], 78);  // F#5
  EXPECT_EQ(c.grid.pitches[8][2], 63);  // D#4
  EXPECT_TRUE(c.grid.is_onset(4, 2));   // the repeated E4 is a new note
  EXPECT_FALSE(c.grid.is_onset(5, 2));
  ASSERT_EQ(c.fermatas.size(), 20u);
  for (size_t t = 0; t < 20; ++t) EXPECT_EQ(c.fermatas[t], t == 12) << t;
  EXPECT_EQ(c.written_grid().steps(), 32u);  // the pickup's bar filled with rests
}

TEST(ChoraleXml, LeadingRestsBecomeThePickup) {
  // A full first bar that starts with a quarter rest in every part: the music starts with a
  // pickup of three quarters.
  std::string text = score({{"P1", "S"}, {"P2", "A"}, {"P3", "T"}, {"P4", "B"}}, kSoprano + kAlto + kTenor + kBass);
  for (size_t at = text.find("implicit=\"yes\">"); at != std::string::npos; at = text.find("implicit=\"yes\">", at)) {
    text.replace(at, 15, ">");
  }
  for (size_t at = text.find("</attributes>"); at != std::string::npos; at = text.find("</attributes>", at + 1)) {
    text.insert(at + 13, "<note><rest/><duration>2</duration></note><note><rest/><duration>2</duration></note><note><rest/><duration>2</duration></note>");
  }
  const Chorale c = parse_chorale_musicxml(text, "rests.xml");
  EXPECT_EQ(c.pickup_steps, 4);  // B4 on beat 4 of a full bar
  ASSERT_EQ(c.grid.steps(), 20u);
  EXPECT_EQ(c.grid.pitches[0][0], 71);
  EXPECT_TRUE(c.fermatas[12]);
}

TEST(ChoraleXml, PartsPickedByNameAmongMore) {
  const std::string violin = part("P0", note("D", 0, 6, 2), note("D", 0, 6, 8));
  const std::string continuo = part("P5", note("E", 0, 2, 2), note("E", 0, 2, 8));
  const std::string text = score({{"P0", "Violino 1"}, {"P1", "Soprano"}, {"P2", "Alto"}, {"P3", "Tenore"}, {"P4", "Basso"}, {"P5", "Continuo"}},
                                 violin + kSoprano + kAlto + kTenor + kBass + continuo);
  const Chorale c = parse_chorale_musicxml(text, "cantata.xml");
  EXPECT_EQ(c.grid.pitches[4][0], 79);
  EXPECT_EQ(c.grid.pitches[4][3], 40);
}

TEST(ChoraleXml, ClearErrors) {
  const auto message = [](const std::string& text) {
    try {
      parse_chorale_musicxml(text, "bad.xml");
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(score({{"P1", "S"}, {"P2", "A"}, {"P3", "T"}}, kSoprano + kAlto + kTenor)).find("3 parts, and none named soprano"), std::string::npos);
  const std::string three_four = part("P4", note("E", 0, 3, 2), note("E", 0, 3, 4) + note("E", 0, 3, 2), true, 3);
  const std::string mixed = message(score({{"P1", "S"}, {"P2", "A"}, {"P3", "T"}, {"P4", "Bass"}}, kSoprano + kAlto + kTenor + three_four));
  EXPECT_NE(mixed.find("bad.xml: part P4 (Bass): its meter"), std::string::npos) << mixed;
  EXPECT_NE(message("<score-timewise/>").find("score-timewise is not read"), std::string::npos);
  EXPECT_NE(message("<score-partwise").find("bad.xml: byte"), std::string::npos);
  std::string off_grid = kSoprano;
  off_grid.replace(off_grid.find("<divisions>2</divisions>"), 24, "<divisions>6</divisions>");  // the pickup B4 lasts a triplet 8th
  off_grid.replace(off_grid.find("<duration>2</duration>"), 22, "<duration>2</duration><time-modification/>");
  const std::string off = message(score({{"P1", "S"}, {"P2", "A"}, {"P3", "T"}, {"P4", "B"}}, off_grid + kAlto + kTenor + kBass));
  EXPECT_NE(off.find("part P1 (S): measure 0: a note off the 16th grid"), std::string::npos) << off;
  EXPECT_TRUE(has_musicxml_extension("a.MXL"));
  EXPECT_TRUE(has_musicxml_extension("a.musicxml"));
  EXPECT_FALSE(has_musicxml_extension("a.mid"));
}

// The same transcriber's MusicXML and MIDI of each chorale (347 names in both folders):
// what both read must be the same music, 16th by 16th.
TEST(ChoraleXml, TheMusicXmlChoralesAgreeWithTheirMidiFiles) {
  BACHGEN_REQUIRE_DATA(xml_dir, "bach-chorales-musicxml");
  BACHGEN_REQUIRE_DATA(midi_dir, "bach-chorales-midi/satb");
  const std::vector<std::string> files = testing::list_files(xml_dir, ".xml");
  ASSERT_EQ(files.size(), 404u);
  int read = 0, paired = 0, same = 0, held = 0, with_fermatas = 0;
  std::vector<std::string> failed, differ;
  for (const std::string& file : files) {
    const std::string path = file.find('/') == std::string::npos ? xml_dir + "/" + file : file;
    Chorale c;
    try {
      c = read_chorale_musicxml(path);
    } catch (const std::exception& e) {
      failed.push_back(e.what());
      continue;
    }
    ++read;
    with_fermatas += std::count(c.fermatas.begin(), c.fermatas.end(), true) > 0;
    std::string stem = path.substr(path.rfind('/') + 1);
    stem = stem.substr(0, stem.size() - 4);
    for (char& ch : stem) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    const std::string midi = midi_dir + "/" + stem + ".mid";
    if (!io::is_regular_file(midi)) continue;
    ++paired;
    ChoraleGrid g = score_to_grid(score_from_midi(midi::read_midi_file(midi)));
    const auto silent = [](const GridStep& s) { return s == GridStep{kSilent, kSilent, kSilent, kSilent}; };
    while (!g.pitches.empty() && silent(g.pitches.front())) g.pitches.erase(g.pitches.begin());  // the pickup's rests
    while (!g.pitches.empty() && silent(g.pitches.back())) g.pitches.pop_back();                  // the last bar's
    // The two editions hold the last chord for different lengths now and then: the same music
    // is the same steps up to the shorter end, and the longer one only holds its last chord on.
    const std::vector<GridStep>& a = c.grid.pitches;
    const size_t common = std::min(a.size(), g.pitches.size());
    bool agree = common > 0 && std::equal(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(common), g.pitches.begin());
    const std::vector<GridStep>& longer = a.size() > g.pitches.size() ? a : g.pitches;
    for (size_t t = common; agree && t < longer.size(); ++t) agree = longer[t] == longer[common - 1];
    same += a == g.pitches;
    if (agree) {
      ++held;
    } else {
      differ.push_back(stem);
    }
  }
  std::printf("%d of 404 read; %d with fermatas; %d paired with a MIDI file: %d the same 16th by 16th, %d the same but for the last chord's length\n",
              read, with_fermatas, paired, same, held);
  for (size_t i = 0; i < failed.size() && i < 8; ++i) std::printf("  not read: %s\n", failed[i].c_str());
  for (size_t i = 0; i < differ.size() && i < 8; ++i) std::printf("  differs: %s\n", differ[i].c_str());
  EXPECT_GE(read, 390);
  EXPECT_GE(paired, 340);
  // Measured: 329 of 342. The other 13 differ in the music itself: a bass octave written as a
  // second voice in the MusicXML (voice 1 is read), a rest under a fermata where the MIDI file
  // holds, a B where the MIDI has B flat.
  EXPECT_GE(held, 325);
}

}  // namespace
}  // namespace bachgen::music
