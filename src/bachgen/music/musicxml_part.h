// Reading score-partwise MusicXML onto the 16th grid (pugixml), one part at a time: what the
// melody reader (music/melody.h: the first part) and the chorale reader (music/chorale_xml.h:
// four parts) share. Torch-free; docs/generation.md#melody-input gives what is read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <pugixml.hpp>

#include "bachgen/music/key.h"

namespace bachgen::music {

inline constexpr size_t kMaxMusicXmlSteps = 1 << 16;  // a reading limit (4,096 bars of 4/4)

// One part's line: voice 1 (the first voice met), one note of each chord (the top one, or the
// lowest with `lowest`); ties joined; <backup>/<forward> across voices; the time signature
// and an implicit (or short) first measure as a pickup.
struct PartLine {
  std::vector<int8_t> pitches;  // one per 16th step; kSilent for a rest
  std::vector<bool> onsets;     // a note starts here (repeated notes stay separate)
  std::vector<bool> fermatas;   // a note under a fermata starts here
  std::vector<int> spellings;   // the line-of-fifths place (music/spelling.h) of a note starting here, as written; else kUnspelled
  int steps_per_bar = 16;
  int pickup_steps = 0;         // steps before the first bar line; 0 = none
  double tempo_bpm = 0;         // 0 = none given
  std::optional<KeyGuess> key;  // the first <key> (its <fifths>, and <mode> minor or major)
  std::string name;             // the part's <part-name>, when the part list gives one
};

// Parses the document and returns its <score-partwise> root. Throws std::runtime_error
// "NAME: PROBLEM" (not well-formed, not score-partwise).
pugi::xml_node load_score_partwise(pugi::xml_document& doc, const std::string& document, const std::string& name);

// Throws std::runtime_error "WHERE: measure N: PROBLEM". Trailing rests stay.
PartLine read_musicxml_part(const pugi::xml_node& part, const std::string& where, bool lowest = false);

// The score inside a compressed MusicXML archive (.mxl): META-INF/container.xml's first
// rootfile, or without a container the one .musicxml/.xml entry outside META-INF. Returns its
// text; *entry gets its name. Throws std::runtime_error "NAME: PROBLEM".
std::string musicxml_of_mxl(const std::vector<uint8_t>& archive, const std::string& name, std::string* entry);

// 'C' -> 0 ... 'B' -> 11; -1 for anything else.
int pitch_class_of_letter(char letter);
// A time signature in 16ths per bar (4/4 -> 16, 3/4 -> 12, 6/8 -> 12); -1 when the 16th grid
// cannot hold it (a denominator other than 1, 2, 4, 8, 16), the bar is longer than 64 16ths, or
// it is not one.
int steps_per_bar_of(int numerator, int denominator);

// The key a <key> element names: <fifths> -7..7, <mode> minor or anything else as major.
std::optional<KeyGuess> key_of_musicxml(const pugi::xml_node& key);

}  // namespace bachgen::music
