// Four-part MusicXML read into a Chorale: the soprano, alto, tenor and bass parts (a score of
// exactly four parts in that order, or the four whose names say Soprano, Alto, Tenor and Bass
// among more), each onto the 16th grid (music/musicxml_part.h), with the meter, the pickup, the
// key as written (with its mode), the tempo and the fermatas. What `analyze` reads of the
// MusicXML chorales (data/bach-chorales-musicxml/). Torch-free; docs/generation.md#analyze.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bachgen/music/chorale.h"

namespace bachgen::music {

// Throws std::runtime_error "NAME: PROBLEM" (", part P2 (Alto): measure N: PROBLEM" for a part's).
// `parts`, when given, names the four parts to read as S, A, T, B by number (from 1, in the
// document's order), for a score with instruments (`bachgen convert --voices`).
Chorale parse_chorale_musicxml(const std::string& document, const std::string& name, const std::vector<int>& parts = {});
Chorale parse_chorale_mxl(const std::vector<uint8_t>& archive, const std::string& name, const std::vector<int>& parts = {});
// By extension: .musicxml/.xml or .mxl.
Chorale read_chorale_musicxml(const std::string& path, const std::vector<int>& parts = {});
// Whether the path names MusicXML by its extension (.musicxml, .xml, .mxl; any case).
bool has_musicxml_extension(const std::string& path);

}  // namespace bachgen::music
