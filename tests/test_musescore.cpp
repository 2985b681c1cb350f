// The MusicXML we write opens in MuseScore 3: Debian's musescore3 converts it to PDF with no
// line of its log naming a warning or an error, for Bach's chorales, a 3/4 result with a
// pickup and converted chorales with fermatas (composed and harmonized ones: test_cli); its compressed .mxl
// export of our file reads back as our soprano (scripts/setup.sh installs musescore3; the test
// skips, saying so, where it is absent).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "bachgen/data/jsb.h"
#include "bachgen/commands/chorale_files.h"
#include "bachgen/commands/convert_command.h"
#include "bachgen/io/files.h"
#include "bachgen/music/chorale_xml.h"
#include "bachgen/music/melody.h"
#include "bachgen/render/musicxml.h"
#include "corpus.h"

namespace bachgen::render {
namespace {

constexpr const char* kMuseScore = "/usr/bin/mscore3";

std::string tmp(const std::string& name) { return std::string(BACHGEN_TEST_TMP) + "/musescore_" + name; }

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Converts `xml` to PDF (or whatever `pdf`'s extension names); returns MuseScore's exit status
// and what it printed.
int to_pdf(const std::string& xml, const std::string& pdf, std::string* log) {
  std::remove(pdf.c_str());
  const std::string out = pdf + ".log";
  const std::string command = "QT_QPA_PLATFORM=offscreen timeout 300 '" + std::string(kMuseScore) + "' -o '" + pdf + "' '" +
                              xml + "' >'" + out + "' 2>&1";
  const int status = std::system(command.c_str());
  *log = slurp(out);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// No line of MuseScore's log names a warning or an error (any case).
void expect_clean_pdf(const std::string& xml, const std::string& pdf) {
  std::string log;
  ASSERT_EQ(to_pdf(xml, pdf, &log), 0) << log;
  std::string lower = log;
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  EXPECT_EQ(lower.find("error"), std::string::npos) << xml << ":\n" << log;
  EXPECT_EQ(lower.find("warn"), std::string::npos) << xml << ":\n" << log;
  const std::string bytes = slurp(pdf);
  ASSERT_GT(bytes.size(), 1000u) << pdf;
  EXPECT_EQ(bytes.substr(0, 5), "%PDF-");
}

TEST(MuseScore, OpensBachsChoralesAsWeWriteThem) {
  struct stat st {};
  if (::stat(kMuseScore, &st) != 0) GTEST_SKIP() << kMuseScore << " is not installed (scripts/setup.sh installs musescore3)";
  BACHGEN_REQUIRE_DATA(dir, "jsb-chorales");
  const data::JsbCorpus jsb = data::load_jsb(dir + "/Jsb16thSeparated.json");
  for (size_t i : {0u, 40u}) {
    const std::string xml = tmp("jsb" + std::to_string(i) + ".musicxml");
    write_musicxml(xml, jsb.test[i]);
    expect_clean_pdf(xml, tmp("jsb" + std::to_string(i) + ".pdf"));
  }
}

TEST(MuseScore, OpensAThreeFourResultWithAPickup) {
  struct stat st {};
  if (::stat(kMuseScore, &st) != 0) GTEST_SKIP() << kMuseScore << " is not installed (scripts/setup.sh installs musescore3)";
  music::ChoraleGrid g;
  for (int t = 0; t < 28; ++t) g.pitches.push_back({static_cast<int8_t>(72 + t / 4 % 3), 67, 64, 48});
  music::Chorale waltz;
  waltz.grid = g;
  waltz.steps_per_bar = 12;
  waltz.pickup_steps = 4;  // 8 lead rests
  commands::ChoraleFiles out;
  out.audio = render::AudioFormat::kNone;
  const std::vector<std::string> files = out.write(waltz, tmp("waltz"));
  ASSERT_EQ(files.size(), 2u);
  expect_clean_pdf(files[1], tmp("waltz.pdf"));
}

// A Greentree MIDI chorale converted (`bachgen convert`: key, pickup, spelling), and the same
// with the transcriber's fermatas read from its MusicXML, open without a warning.
TEST(MuseScore, OpensConvertedChoralesWithTheirPickupsAndFermatas) {
  struct stat st {};
  if (::stat(kMuseScore, &st) != 0) GTEST_SKIP() << kMuseScore << " is not installed (scripts/setup.sh installs musescore3)";
  BACHGEN_REQUIRE_DATA(midi_dir, "bach-chorales-midi/satb");
  BACHGEN_REQUIRE_DATA(xml_dir, "bach-chorales-musicxml");
  commands::ConvertSettings s;
  s.input = midi_dir + "/000206b_.mid";
  s.output = tmp("converted.musicxml");
  commands::run_convert(s);
  expect_clean_pdf(s.output, tmp("converted.pdf"));
  s.input = xml_dir + "/000206B_.xml";
  s.output = tmp("fermatas.musicxml");
  commands::run_convert(s);
  EXPECT_NE(slurp(s.output).find("<fermata"), std::string::npos);
  expect_clean_pdf(s.output, tmp("fermatas.pdf"));
  // And in the hymnal's two staves.
  const music::Chorale hymn = music::read_chorale_musicxml(s.output);
  const std::string two = tmp("hymnal.musicxml");
  io::write_file_atomically(two, to_musicxml(hymn, "hymnal", Staves::kTwo));
  expect_clean_pdf(two, tmp("hymnal.pdf"));
}

// What MuseScore saves by default, compressed MusicXML (.mxl), reads as the soprano we wrote.
TEST(MuseScore, ItsCompressedExportReadsAsOurSoprano) {
  struct stat st {};
  if (::stat(kMuseScore, &st) != 0) GTEST_SKIP() << kMuseScore << " is not installed (scripts/setup.sh installs musescore3)";
  BACHGEN_REQUIRE_DATA(dir, "jsb-chorales");
  const data::JsbCorpus jsb = data::load_jsb(dir + "/Jsb16thSeparated.json");
  const std::string xml = tmp("export.musicxml"), mxl = tmp("export.mxl");
  write_musicxml(xml, jsb.test[3]);
  std::remove(mxl.c_str());
  std::string log;
  ASSERT_EQ(to_pdf(xml, mxl, &log), 0) << log;  // -o by extension: .mxl this time
  const music::Melody ours = music::read_melody(xml), theirs = music::read_melody(mxl);
  EXPECT_EQ(theirs.pitches, ours.pitches);
  EXPECT_EQ(theirs.onsets, ours.onsets);
  EXPECT_EQ(theirs.steps_per_bar, ours.steps_per_bar);
}

}  // namespace
}  // namespace bachgen::render
