// Melody input: the note text, MusicXML (hand-written documents and our own writer's output for
// every JSB test chorale) and MIDI, with the errors a musician meets; key names.
#include <gtest/gtest.h>

#include "bachgen/data/jsb.h"
#include "bachgen/io/files.h"
#include "bachgen/midi/midi_writer.h"
#include "bachgen/music/chorale.h"
#include "bachgen/music/melody.h"
#include "bachgen/music/meter.h"
#include "bachgen/music/score.h"
#include "bachgen/io/zip_archive.h"
#include "bachgen/music/key.h"
#include "bachgen/render/musicxml.h"
#include "corpus.h"

namespace bachgen::music {
namespace {

std::string tmp(const std::string& name) { return std::string(BACHGEN_TEST_TMP) + "/" + name; }

// Pitches per step, with '*' where a note starts: "67* 67 72*".
std::string describe(const Melody& m) {
  std::string out;
  for (size_t t = 0; t < m.steps(); ++t) {
    out += (t ? " " : "") + (m.pitches[t] == kSilent ? std::string("r") : std::to_string(m.pitches[t])) + (m.onsets[t] ? "*" : "");
  }
  return out;
}

TEST(MelodyText, PitchesDurationsAndTies) {
  const Melody m = parse_melody_text("G4:0.5 A4 Bb4:1/4 C#5:0.25 r:0.5 C5~ C5:0.25 C5 Dbb5");
  EXPECT_EQ(describe(m), "67* 67 69* 69 70* 73* r r 72* 72 72 72* 72*");
  EXPECT_EQ(m.steps_per_bar, 16);
  EXPECT_EQ(m.pickup_steps, 0);
  // Dbb5 = C5 (72): the last item takes the previous duration (a 16th).
}

TEST(MelodyText, NoteTextWrittenAtTheEdgesOfMidiReadsBack) {
  // MIDI 0 and 1 beside sharp notes (the speller would like B#, but B#-2 is no octave) and 127.
  const Melody m = parse_melody_text("3/4 C-1 C#-1 F#-1 | C#-1:2 G9:1 |");
  Chorale c = soprano_chorale(m);
  c.key = parse_key("C# minor");
  const std::string text = melody_text(c);
  const Melody again = parse_melody_text(text);
  EXPECT_EQ(describe(again), describe(m)) << text;
}

TEST(Meter, TheTimeSignatureOfABarByHand) {
  EXPECT_EQ(meter_name(16), "4/4");
  EXPECT_EQ(meter_name(12), "3/4");
  EXPECT_EQ(meter_name(24), "6/4");
  EXPECT_EQ(meter_name(6), "3/8");
  EXPECT_EQ(meter_name(10), "5/8");
  EXPECT_EQ(meter_name(5), "5/16");
  EXPECT_EQ(meter_of_bar(8).numerator, 2);
  EXPECT_EQ(meter_of_bar(8).denominator, 4);
  // Every meter the note text reads names itself again.
  for (const char* text : {"4/4", "3/4", "2/2", "6/8", "3/8", "7/16", "12/8"}) {
    const Melody m = parse_melody_text(std::string(text) + " C5:4");
    EXPECT_EQ(parse_melody_text(meter_name(m.steps_per_bar) + " C5:4").steps_per_bar, m.steps_per_bar) << text;
  }
}

TEST(MelodyText, MeterPickupAndBarChecks) {
  const Melody m = parse_melody_text("3/4 D5 | G5:2 A5:1 | B5:3 |");
  EXPECT_EQ(m.steps_per_bar, 12);
  EXPECT_EQ(m.pickup_steps, 4);
  EXPECT_EQ(m.steps(), 4u + 12 + 12);
  EXPECT_EQ(describe_step(m, 0), "bar 0 beat 3");  // a one-beat pickup in 3/4
  EXPECT_EQ(describe_step(m, 4), "bar 1 beat 1");
  EXPECT_EQ(describe_step(m, 4 + 12 + 6), "bar 2 beat 2 + 2/16");
  // A full first bar is no pickup.
  EXPECT_EQ(parse_melody_text("C5:4 | D5:4 |").pickup_steps, 0);
}

TEST(MelodyText, ErrorsNameTheItemAndTheProblem) {
  const auto error = [](const std::string& text) {
    try {
      parse_melody_text(text);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error("C5 H4"), "item 2 ('H4'): 'H' is not a pitch name (A-G, or r for a rest)");
  EXPECT_EQ(error("C5:0.3"), "item 1 ('C5:0.3'): off the 16th grid (a duration must be a multiple of 0.25 quarters)");
  EXPECT_EQ(error("C5:4 | D5:3 |"), "item 4 ('|'): this bar holds 12 16ths; the meter needs 16");
  EXPECT_EQ(error("C5:5 |"), "item 2 ('|'): the first bar holds 20 16ths; the meter allows 16");
  EXPECT_EQ(error("C5~ D5"), "item 2 ('D5'): a tie must continue the same pitch");
  EXPECT_EQ(error("C5~"), "the last note is tied to nothing");
  EXPECT_EQ(error("C"), "item 1 ('C'): no octave (write C4 for middle C)");
  EXPECT_EQ(error("7/3 C5"), "item 1 ('7/3'): not a time signature this grid can hold (N/D with D = 1, 2, 4, 8 or 16)");
  EXPECT_EQ(error(""), "no notes");
  EXPECT_EQ(error("C5:0"), "item 1 ('C5:0'): the duration must be positive and below 16384 quarters");
}

TEST(MelodyText, SopranoChecks) {
  const Melody low = parse_melody_text("C5 | B3");
  try {
    check_soprano(low, "--notes", 60, 81, 1024);
    FAIL() << "B3 is below the soprano range";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()),
              "--notes: bar 1 beat 1: B3 (MIDI 59) is outside the soprano range 60-81 (C4-A5); transpose the melody (--transpose auto does it)");
  }
  EXPECT_THROW(check_soprano(parse_melody_text("C5:300"), "x", 60, 81, 1024), std::invalid_argument);  // too long
  EXPECT_THROW(check_soprano(parse_melody_text("r:4"), "x", 60, 81, 1024), std::invalid_argument);     // no notes
  EXPECT_NO_THROW(check_soprano(parse_melody_text("C4 A5"), "x", 60, 81, 1024));
}

// A MuseScore-like document: divisions 2, an implicit pickup measure, a chord (top note
// kept), a tie across the bar line, a second voice after <backup> (ignored), a rest.
constexpr const char* kDocument = R"(<?xml version="1.0" encoding="UTF-8"?>
<score-partwise version="3.1">
  <part-list><score-part id="P1"><part-name>Melody</part-name></score-part>
             <score-part id="P2"><part-name>Piano</part-name></score-part></part-list>
  <part id="P1">
    <measure number="0" implicit="yes">
      <attributes><divisions>2</divisions><time><beats>4</beats><beat-type>4</beat-type></time></attributes>
      <direction><sound tempo="72"/></direction>
      <note><pitch><step>D</step><octave>5</octave></pitch><duration>2</duration><voice>1</voice></note>
    </measure>
    <measure number="1">
      <note><pitch><step>G</step><octave>4</octave></pitch><duration>4</duration><voice>1</voice></note>
      <note><chord/><pitch><step>B</step><octave>4</octave></pitch><duration>4</duration><voice>1</voice></note>
      <note><pitch><step>F</step><alter>1</alter><octave>5</octave></pitch><duration>1</duration><voice>1</voice></note>
      <note><rest/><duration>1</duration><voice>1</voice></note>
      <note><pitch><step>A</step><octave>5</octave></pitch><duration>2</duration><tie type="start"/><voice>1</voice></note>
      <backup><duration>8</duration></backup>
      <note><pitch><step>C</step><octave>4</octave></pitch><duration>8</duration><voice>2</voice></note>
    </measure>
    <measure number="2">
      <note><pitch><step>A</step><octave>5</octave></pitch><duration>2</duration><tie type="stop"/><voice>1</voice></note>
      <note><pitch><step>A</step><octave>5</octave></pitch><duration>2</duration><voice>1</voice></note>
    </measure>
  </part>
  <part id="P2"><measure number="0"><note><rest/><duration>2</duration></note></measure></part>
</score-partwise>)";

TEST(MelodyMusicXml, ReadsTheFirstVoiceOfTheFirstPart) {
  const Melody m = parse_melody_musicxml(kDocument, "song.musicxml");
  EXPECT_EQ(m.pickup_steps, 4);
  EXPECT_EQ(m.steps_per_bar, 16);
  EXPECT_DOUBLE_EQ(m.tempo_bpm, 72);
  EXPECT_EQ(describe(m), "74* 74 74 74 71* 71 71 71 71 71 71 71 78* 78 r r 81* 81 81 81 81 81 81 81 81* 81 81 81");
  EXPECT_EQ(m.fermatas, std::vector<bool>(m.steps(), false));  // none written
  EXPECT_FALSE(m.key);
}

TEST(MelodyMusicXml, FermatasAndTheKey) {
  // G minor (two flats, minor); a fermata on the tied half note lands where the note starts.
  const std::string doc = R"(<score-partwise><part id="P1"><measure number="1">
      <attributes><divisions>1</divisions><key><fifths>-2</fifths><mode>minor</mode></key></attributes>
      <note><pitch><step>D</step><octave>5</octave></pitch><duration>1</duration></note>
      <note><pitch><step>C</step><octave>5</octave></pitch><duration>1</duration></note>
      <note><pitch><step>B</step><alter>-1</alter><octave>4</octave></pitch><duration>2</duration><tie type="start"/></note>
    </measure><measure number="2">
      <note><pitch><step>B</step><alter>-1</alter><octave>4</octave></pitch><duration>2</duration><tie type="stop"/><notations><fermata/></notations></note>
      <note><pitch><step>G</step><octave>4</octave></pitch><duration>2</duration><notations><fermata type="inverted"/></notations></note>
    </measure></part></score-partwise>)";
  const Melody m = parse_melody_musicxml(doc, "g.musicxml");
  ASSERT_TRUE(m.key);
  EXPECT_EQ(m.key->name(), "G minor");
  ASSERT_EQ(m.fermatas.size(), 32u);
  for (size_t t = 0; t < 32; ++t) EXPECT_EQ(m.fermatas[t], t == 8 || t == 24) << t;
}

TEST(MelodyMusicXml, ErrorsNameTheFileAndMeasure) {
  const auto error = [](const std::string& doc) {
    try {
      parse_melody_musicxml(doc, "m.xml");
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error("<score-partwise><part").rfind("m.xml: byte ", 0), 0u);
  EXPECT_NE(error("<score-partwise><part").find("not well-formed XML"), std::string::npos);
  EXPECT_EQ(error("<score-timewise/>"), "m.xml: not a score-partwise MusicXML document (score-timewise is not read)");
  EXPECT_EQ(error("<score-partwise><part><measure number=\"3\"><note><pitch><step>C</step><octave>5</octave></pitch>"
                  "<duration>1</duration></note></measure></part></score-partwise>"),
            "m.xml: measure 3: a note before <divisions>");
  EXPECT_EQ(error("<score-partwise><part><measure number=\"1\"><attributes><divisions>3</divisions></attributes>"
                  "<note><pitch><step>C</step><octave>5</octave></pitch><duration>1</duration></note></measure></part></score-partwise>"),
            "m.xml: measure 1: a note off the 16th grid (tuplets and 32nds are not read)");
  EXPECT_EQ(error("<score-partwise><part><measure number=\"1\"><attributes><divisions>1</divisions></attributes>"
                  "<note><rest/><duration>4</duration></note></measure></part></score-partwise>"),
            "m.xml: the first part has no notes");
}

std::vector<uint8_t> bytes_of(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }

const char* kContainer = R"(<?xml version="1.0" encoding="UTF-8"?>
<container><rootfiles><rootfile full-path="scores/song.musicxml" media-type="application/vnd.recordare.musicxml+xml"/>
</rootfiles></container>)";

// Compressed MusicXML: the score its container names (or the one score, without a container)
// reads as the plain document does; what is missing or ambiguous is named.
// Found by fuzz_melody: a chord note longer than its chord, then <backup> and <forward>, left a
// step whose pitch changed without an onset, and the note text written from it read back as a
// rest. A step that starts no note holds the pitch before it.
TEST(MelodyMusicXml, APitchThatChangesStartsANote) {
  const std::string xml =
      R"(<score-partwise><part id="P1"><measure number="1" implicit="yes"><attributes><divisions>1</divisions)"
      R"(><time><beats>3</beats><beat-type>4</beat-type></time></attributes><note><pitch><step>D</step><alter)"
      R"(>1</alter><octave>5</octave></pitch><duration>1</duration><tie type="start"/><voice>1</voice></note>)"
      R"(r="1" implicit="yes"><attributes><divisions>4</divisions><time><beats>3</beats><beat-type>4</beat-ty)"
      R"(pe></time></attributes><note><pitch><step>D</step><alter>1</alter><octave>5</octave></pitch><duratio)"
      R"(n>1</duration><tie type="start"/><voice>0</voice></note><note><chord/><pitch><step>G</step><octave>5)"
      R"(</octave></pitch><duration>2</duration></note><backup><duration>2</duration></backup><forward><durat)"
      R"(ion>3</duration></forward><note><chord/><pitch><step>G</step><octave>5</octave></pitch><duration>2</)"
      R"(duration></note><backup><duration>2</duration></backup><forward><duration>3</duration></forward></me)"
      R"(asure></part></score-partwise>)";
  const music::Melody m = music::parse_melody_musicxml(xml, "fuzz.musicxml");
  ASSERT_FALSE(m.pitches.empty());
  for (size_t t = 0; t < m.steps(); ++t) {
    if (m.pitches[t] != music::kSilent && !m.onsets[t]) {
      ASSERT_GT(t, 0u);
      EXPECT_EQ(m.pitches[t], m.pitches[t - 1]) << t;
    }
  }
  music::Chorale c = music::soprano_chorale(m);
  c.start_at_first_note();
  const music::Melody again = music::parse_melody_text(music::melody_text(c));
  ASSERT_EQ(again.steps(), c.grid.steps());
  for (size_t t = 0; t < again.steps(); ++t) {
    EXPECT_EQ(again.pitches[t], c.grid.pitches[t][0]) << t;
    EXPECT_EQ(static_cast<bool>(again.onsets[t]), c.grid.is_onset(t, 0)) << t;
  }
}

TEST(MelodyMusicXml, CompressedMxlReadsAsThePlainDocument) {
  const std::string expected = describe(parse_melody_musicxml(kDocument, "song.musicxml"));
  for (const bool deflate : {true, false}) {
    const std::vector<uint8_t> mxl = io::make_zip({{"META-INF/container.xml", bytes_of(kContainer)},
                                                   {"scores/other.xml", bytes_of("<not-a-score/>")},
                                                   {"scores/song.musicxml", bytes_of(kDocument)}},
                                                  deflate);
    EXPECT_EQ(describe(parse_melody_mxl(mxl, "song.mxl")), expected) << deflate;
  }
  EXPECT_EQ(describe(parse_melody_mxl(io::make_zip({{"song.xml", bytes_of(kDocument)}}, true), "bare.mxl")), expected);
  // Written to a file, read by its extension.
  const std::string path = tmp("song.mxl");
  io::write_file_atomically(path, io::make_zip({{"META-INF/container.xml", bytes_of(kContainer)}, {"scores/song.musicxml", bytes_of(kDocument)}}, true));
  EXPECT_EQ(describe(read_melody(path)), expected);
  const auto error = [](const std::vector<uint8_t>& archive) {
    try {
      parse_melody_mxl(archive, "x.mxl");
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error(io::make_zip({{"META-INF/container.xml", bytes_of(kContainer)}}, true)),
            "x.mxl: the score scores/song.musicxml named by META-INF/container.xml is not in the archive");
  EXPECT_EQ(error(io::make_zip({{"a.xml", bytes_of(kDocument)}, {"b.xml", bytes_of(kDocument)}}, false)),
            "x.mxl: no META-INF/container.xml, and more than one score (a.xml, b.xml)");
  EXPECT_EQ(error(io::make_zip({{"readme.txt", bytes_of("hi")}}, false)),
            "x.mxl: no META-INF/container.xml and no .musicxml or .xml score inside");
  EXPECT_EQ(error(io::make_zip({{"META-INF/container.xml", bytes_of("<container/>")}}, false)),
            "x.mxl: META-INF/container.xml names no rootfile");
  EXPECT_EQ(error(bytes_of(kDocument)), "x.mxl: not a ZIP archive (no end-of-central-directory record)");
  // The score's own problems name the archive and the entry.
  EXPECT_EQ(error(io::make_zip({{"s.xml", bytes_of("<score-timewise/>")}}, true)),
            "x.mxl:s.xml: not a score-partwise MusicXML document (score-timewise is not read)");
}

// Our MusicXML writer's soprano part reads back as the soprano, step by step and note by note,
// for every JSB test chorale.
TEST(MelodyMusicXml, OurOwnScoresReadBackAsTheirSoprano) {
  BACHGEN_REQUIRE_DATA(dir, "jsb-chorales");
  const data::JsbCorpus jsb = data::load_jsb(dir + "/Jsb16thSeparated.json");
  for (size_t i = 0; i < jsb.test.size(); ++i) {
    const ChoraleGrid& grid = jsb.test[i];
    const Melody m = parse_melody_musicxml(render::to_musicxml(grid), "test " + std::to_string(i));
    size_t last = grid.steps();
    while (last > 0 && grid.pitches[last - 1][0] == kSilent) --last;
    ASSERT_EQ(m.steps(), last) << i;
    for (size_t t = 0; t < last; ++t) {
      ASSERT_EQ(m.pitches[t], grid.pitches[t][0]) << i << " step " << t;
      ASSERT_EQ(m.onsets[t], grid.is_onset(t, 0)) << i << " step " << t;
    }
  }
}

TEST(MelodyMidi, TheTopLineWithRepeatsAndMeter) {
  Score score;
  score.ticks_per_quarter = 480;
  score.voice_names = {"Melody", "Alto"};
  // Two struck E5 quarters, a G5 half over a lower C5 whole note in the other track.
  score.notes = {{76, 0, 480, 80, 0}, {76, 480, 480, 80, 0}, {79, 960, 960, 80, 0}, {72, 960, 1920, 80, 1}};
  midi::TimeSignature ts;
  ts.numerator = 3;
  score.time_signatures = {{0, ts}};
  score.end_tick = 2880;
  const std::string path = tmp("melody.mid");
  midi::write_midi_file(path, score_to_midi(score));
  const Melody m = read_melody(path);
  EXPECT_EQ(m.steps_per_bar, 12);
  EXPECT_EQ(describe(m), "76* 76 76 76 76* 76 76 76 79* 79 79 79 79 79 79 79 72* 72 72 72 72 72 72 72");
  EXPECT_THROW(read_melody(tmp("melody.txt")), std::runtime_error);
}

TEST(MelodyText, FittingShiftsByOctavesFirstThenBySemitones) {
  bool octaves = false;
  EXPECT_EQ(fitting_shift(parse_melody_text("C4 A5"), 60, 81, &octaves), 0);
  EXPECT_TRUE(octaves);
  EXPECT_EQ(fitting_shift(parse_melody_text("A3 A4"), 60, 81, &octaves), 12);   // 57-69 -> 69-81
  EXPECT_EQ(fitting_shift(parse_melody_text("C6 D6"), 60, 81, &octaves), -12);  // 84-86 -> 72-74
  EXPECT_TRUE(octaves);
  EXPECT_EQ(fitting_shift(parse_melody_text("Bb3 G5"), 60, 81, &octaves), 2);   // 58-79: only +2 fits
  EXPECT_FALSE(octaves);
  EXPECT_EQ(fitting_shift(parse_melody_text("Db4 Bb5"), 60, 81, &octaves), -1);  // 61-82: down a semitone
  EXPECT_THROW(fitting_shift(parse_melody_text("Bb3 B5"), 60, 81, &octaves), std::invalid_argument);
  EXPECT_EQ(shifted_melody(parse_melody_text("C4 r D4"), 12).pitches[8], 74);
}

TEST(KeyNames, ParseAndName) {
  EXPECT_EQ(music::parse_key("D minor").name(), "D minor");
  EXPECT_EQ(music::parse_key("D minor").fifths, -1);
  EXPECT_EQ(music::parse_key("Eb major").fifths, -3);
  EXPECT_EQ(music::parse_key("Eb").name(), "Eb major");
  EXPECT_EQ(music::parse_key("F#m").name(), "F# minor");
  EXPECT_EQ(music::parse_key("F#m").fifths, 3);
  EXPECT_EQ(music::parse_key("b minor").fifths, 2);
  EXPECT_EQ(music::parse_key("Gb major").fifths, -6);
  EXPECT_THROW(music::parse_key("H major"), std::invalid_argument);
  EXPECT_THROW(music::parse_key("D dorian"), std::invalid_argument);
  EXPECT_THROW(music::parse_key("D minor key"), std::invalid_argument);
}

}  // namespace
}  // namespace bachgen::music
