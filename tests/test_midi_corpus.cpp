// The MIDI library on the real corpus: all 373 SATB chorale files read, written and read
// again without loss, and read identically by mido (the Python peer), note for note.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "bachgen/midi/midi_reader.h"
#include "bachgen/midi/midi_writer.h"
#include "bachgen/midi/notes.h"
#include "corpus.h"
#include "midi_bytes.h"

namespace bachgen::midi {
namespace {

constexpr const char* kCorpus = "bach-chorales-midi/satb";


// The canonical dump that tests/reference/mido_notes.py also prints.
std::string dump(const std::string& name, const MidiFile& f) {
  std::ostringstream out;
  out << "file " << name << "\n";
  for (size_t t = 0; t < f.tracks.size(); ++t) {
    for (const Event& e : f.tracks[t].events) {
      if (auto us = decode_tempo(e)) out << "tempo " << t << " " << e.tick << " " << *us << "\n";
      if (auto ts = decode_time_signature(e)) {
        out << "timesig " << t << " " << e.tick << " " << ts->numerator << " " << ts->denominator
            << "\n";
      }
    }
  }
  for (const Note& n : extract_notes(f)) {
    out << "note " << n.track << " " << int{n.channel} << " " << int{n.pitch} << " " << n.start
        << " " << n.end << " " << int{n.velocity} << "\n";
  }
  return out.str();
}

// Splits a dump into one block per file.
std::map<std::string, std::string> blocks_by_file(const std::string& text) {
  std::map<std::string, std::string> blocks;
  std::istringstream in(text);
  std::string line, current;
  while (std::getline(in, line)) {
    if (line.rfind("file ", 0) == 0) current = line.substr(5);
    blocks[current] += line + "\n";
  }
  return blocks;
}

TEST(MidiCorpus, EveryChoraleSurvivesWriteAndReadAgain) {
  BACHGEN_REQUIRE_DATA(dir, kCorpus);
  const auto names = testing::list_files(dir, ".mid");
  ASSERT_EQ(names.size(), 373u);
  size_t notes = 0;
  for (const std::string& name : names) {
    std::vector<ReadWarning> warnings;
    const MidiFile f = read_midi_file(dir + "/" + name, &warnings);
    EXPECT_TRUE(warnings.empty()) << name << ": " << warnings[0].message;
    EXPECT_EQ(f.format, 1) << name;
    EXPECT_EQ(f.tracks.size(), 5u) << name;
    notes += extract_notes(f).size();
    const MidiFile again = parse_midi(encode_midi(f), name);
    EXPECT_EQ(again, f) << name;
    const MidiFile merged = parse_midi(encode_midi(merge_to_format0(f)), name);
    EXPECT_EQ(extract_notes(merged).size(), extract_notes(f).size()) << name;
  }
  EXPECT_EQ(notes, 102152u);  // the count in shared/data/README.md
}

TEST(MidiCorpus, NotesTemposAndMetersEqualMido) {
  BACHGEN_REQUIRE_DATA(dir, kCorpus);
  const std::string out = testing::temp_path("mido_dump.txt");
  const std::string script = std::string(BACHGEN_SOURCE_DIR) + "/tests/reference/mido_notes.py";
  const std::string command = "/usr/bin/python3 '" + script + "' '" + dir + "' > '" + out + "'";
  ASSERT_EQ(std::system(command.c_str()), 0)
      << command << " failed (is Debian's python3-mido installed? scripts/setup.sh does it)";
  std::ifstream in(out);
  std::stringstream text;
  text << in.rdbuf();
  const auto theirs = blocks_by_file(text.str());

  const auto names = testing::list_files(dir, ".mid");
  ASSERT_EQ(theirs.size(), names.size());
  size_t equal = 0;
  for (const std::string& name : names) {
    const std::string ours = dump(name, read_midi_file(dir + "/" + name));
    const auto it = theirs.find(name);
    ASSERT_NE(it, theirs.end()) << name;
    if (ours == it->second) {
      ++equal;
      continue;
    }
    std::istringstream a(ours), b(it->second);
    std::string la, lb;
    int line = 0;
    while (std::getline(a, la) && std::getline(b, lb) && la == lb) ++line;
    ADD_FAILURE() << name << ": first difference at line " << line << ": bachgen '" << la
                  << "' vs mido '" << lb << "'";
  }
  EXPECT_EQ(equal, names.size());
}

}  // namespace
}  // namespace bachgen::midi
