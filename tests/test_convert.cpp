// `bachgen convert` and what it stands on: a Greentree MIDI chorale read as a Chorale (key,
// meter, pickup) and written as MusicXML that reads back note for note, spelled as the
// transcriber did (C# in D minor); MIDI, MusicXML, .mxl and note text round trips; --voices on a
// score with instruments; and clear errors, with nothing written, for bad input.
#include "bachgen/commands/convert_command.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "bachgen/io/files.h"
#include "bachgen/music/chorale_midi.h"
#include "bachgen/music/chorale_xml.h"
#include "bachgen/music/melody.h"
#include "bachgen/music/spelling.h"
#include "corpus.h"

namespace bachgen::commands {
namespace {

std::string tmp(const std::string& name) { return std::string(BACHGEN_TEST_TMP) + "/convert_" + name; }

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void expect_same_music(const music::Chorale& a, const music::Chorale& b, const std::string& what) {
  EXPECT_EQ(a.steps_per_bar, b.steps_per_bar) << what;
  EXPECT_EQ(a.pickup_steps, b.pickup_steps) << what;
  ASSERT_EQ(a.grid.steps(), b.grid.steps()) << what;
  for (size_t t = 0; t < a.grid.steps(); ++t) {
    for (int v = 0; v < 4; ++v) {
      ASSERT_EQ(a.grid.pitches[t][v], b.grid.pitches[t][v]) << what << " step " << t << " voice " << v;
      ASSERT_EQ(a.grid.is_onset(t, v), b.grid.is_onset(t, v)) << what << " step " << t << " voice " << v;
    }
  }
}

TEST(Convert, AGreentreeMidiChoraleBecomesMusicXmlSpelledAsTheTranscriberWroteIt) {
  BACHGEN_REQUIRE_DATA(midi_dir, "bach-chorales-midi/satb");
  BACHGEN_REQUIRE_DATA(xml_dir, "bach-chorales-musicxml");
  const std::string mid = midi_dir + "/000206b_.mid";  // D minor, 4/4, a quarter pickup
  const music::Chorale from_midi = music::read_chorale_midi(mid);
  ASSERT_TRUE(from_midi.key.has_value());
  EXPECT_EQ(from_midi.key->name(), "D minor");
  EXPECT_EQ(from_midi.steps_per_bar, 16);
  EXPECT_EQ(from_midi.pickup_steps, 4);

  ConvertSettings s;
  s.input = mid;
  s.output = tmp("000206.musicxml");
  const std::string line = run_convert(s);
  EXPECT_NE(line.find("D minor"), std::string::npos) << line;
  const std::string xml = slurp(s.output);
  EXPECT_NE(xml.find("<fifths>-1</fifths><mode>minor</mode>"), std::string::npos);
  EXPECT_NE(xml.find("<measure number=\"0\" implicit=\"yes\">"), std::string::npos);
  EXPECT_EQ(xml.find("<step>D</step><alter>-1</alter>"), std::string::npos);  // the leading tone is C#
  const music::Chorale back = music::read_chorale_musicxml(s.output);
  expect_same_music(from_midi, back, "MIDI -> MusicXML");

  // Note for note against the transcriber's MusicXML of the same chorale.
  const music::Chorale reference = music::read_chorale_musicxml(xml_dir + "/000206B_.xml");
  ASSERT_EQ(reference.grid.steps(), back.grid.steps());
  int64_t same = 0, total = 0;
  for (size_t t = 0; t < back.grid.steps(); ++t) {
    for (size_t v = 0; v < 4; ++v) {
      if (reference.spellings[t][v] == music::kUnspelled || back.spellings[t][v] == music::kUnspelled) continue;
      ++total;
      same += reference.spellings[t][v] == back.spellings[t][v];
    }
  }
  EXPECT_GT(total, 200);
  EXPECT_EQ(same, total);
}

TEST(Convert, RoundTripsBetweenMidiMusicXmlMxlAndNoteText) {
  BACHGEN_REQUIRE_DATA(xml_dir, "bach-chorales-musicxml");
  const std::string source = xml_dir + "/000206B_.xml";
  const music::Chorale original = music::read_chorale_musicxml(source);
  ConvertSettings s;
  s.input = source;
  s.output = tmp("a.mid");
  run_convert(s);
  const music::Chorale midi = music::read_chorale_midi(s.output);
  expect_same_music(original, midi, "MusicXML -> MIDI");
  EXPECT_EQ(midi.key->name(), "D minor");  // the key signature travels in the MIDI file
  s.input = s.output;
  s.output = tmp("b.mxl");
  run_convert(s);
  const music::Chorale mxl = music::read_chorale_musicxml(s.output);
  expect_same_music(original, mxl, "MIDI -> .mxl");
  // The soprano as note text, and back: its notes, its pickup and its spelling.
  s.input = source;
  s.output = tmp("c.txt");
  run_convert(s);
  const std::string text = slurp(s.output);
  EXPECT_EQ(text.rfind("A4:1 | Bb4:1 A4:1 G4:1 D5:1 | D5:0.5 C5:0.5", 0), 0u) << text;
  const music::Melody melody = music::parse_melody_text(text);
  ASSERT_EQ(melody.steps(), original.grid.steps());
  EXPECT_EQ(melody.pickup_steps, 4);
  for (size_t t = 0; t < melody.steps(); ++t) {
    ASSERT_EQ(melody.pitches[t], original.grid.pitches[t][0]) << t;
    ASSERT_EQ(melody.onsets[t], original.grid.is_onset(t, 0)) << t;
    if (melody.onsets[t]) {
      ASSERT_EQ(melody.spellings[t], original.spellings[t][0]) << t;
    }
  }
  // Note text in: the melody in the soprano, spelled as written there (Gb stays Gb).
  io::write_file_atomically(tmp("d.txt"), std::string("3/4 G4:1 | Gb4:2 F4:1 | E4:3 |"));
  s.input = tmp("d.txt");
  s.output = tmp("d.musicxml");
  run_convert(s);
  const std::string d = slurp(s.output);
  EXPECT_NE(d.find("<step>G</step><alter>-1</alter>"), std::string::npos);
  EXPECT_NE(d.find("<beats>3</beats>"), std::string::npos);
}

TEST(Convert, VoicesChooseThePartsOfAScoreWithInstruments) {
  BACHGEN_REQUIRE_DATA(xml_dir, "bach-chorales-musicxml");
  // 000106B_ has instruments beside the choir: read it by names, then by numbers.
  const std::string source = xml_dir + "/000106B_.xml";
  const music::Chorale by_name = music::read_chorale_musicxml(source);
  const music::Chorale by_number = music::read_chorale_musicxml(source, {4, 3, 2, 1});
  EXPECT_NE(by_name.grid.pitches, by_number.grid.pitches);
  ConvertSettings s;
  s.input = source;
  s.output = tmp("e.musicxml");
  s.voices = {1, 2, 3, 99};
  try {
    run_convert(s);
    FAIL() << "part 99 accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("there is no part 99"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(source), std::string::npos) << e.what();
  }
  EXPECT_FALSE(io::is_regular_file(s.output));
}

TEST(Convert, BadInputIsNamedAndNothingIsWritten) {
  const std::string out = tmp("never.musicxml");
  std::remove(out.c_str());
  auto error_of = [&](const std::string& input, const std::string& output) {
    ConvertSettings s;
    s.input = input;
    s.output = output;
    try {
      run_convert(s);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  io::write_file_atomically(tmp("junk.mid"), std::string("MThd not really"));
  EXPECT_NE(error_of(tmp("junk.mid"), out).find(tmp("junk.mid")), std::string::npos);
  io::write_file_atomically(tmp("junk.musicxml"), std::string("<score-partwise><part id=\"P1\"><measure"));
  EXPECT_NE(error_of(tmp("junk.musicxml"), out).find("junk.musicxml"), std::string::npos);
  io::write_file_atomically(tmp("junk.txt"), std::string("C4 H4"));
  EXPECT_NE(error_of(tmp("junk.txt"), out).find("item 2 ('H4')"), std::string::npos);
  EXPECT_NE(error_of(tmp("missing.mid"), out).find("missing.mid"), std::string::npos);
  EXPECT_NE(error_of(tmp("junk.txt"), tmp("x.pdf")).find("not a form bachgen writes"), std::string::npos);
  EXPECT_NE(error_of(tmp("x.wav"), out).find("not a file bachgen converts"), std::string::npos);
  EXPECT_FALSE(io::is_regular_file(out));
  // A one-track MIDI file is not four-part music.
  music::Score one;
  one.ticks_per_quarter = 480;
  one.voice_names = {"Melody"};
  one.notes.push_back({60, 0, 480, 80, 0});
  EXPECT_THROW(music::chorale_from_score(one, "one.mid"), std::runtime_error);
}

}  // namespace
}  // namespace bachgen::commands
