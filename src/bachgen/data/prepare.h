// `bachgen prepare`: turns a corpus (JSB Chorales JSON, the SATB MIDI chorales, or any folder
// of MIDI files) into train / valid / test token shards plus manifest.json. Parallel over
// files; a bad file is reported and skipped; an unchanged rerun only verifies. docs/data.md.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace bachgen::data {

struct PrepareSettings {
  std::string source = "jsb";  // jsb | midi-chorales | midi-dir
  std::string path;            // the JSON file (jsb) or the folder of MIDI files
  std::string vocab = "satb16";  // satb16 | satb16-onset | performance388
  std::string out;             // output folder (created)
  std::string exclude_jsb;     // MIDI sources: leave out chorales that match a valid or test
                               // piece of this Jsb16thSeparated.json (no JSB test leak)
  std::string meters;          // jsb: a folder of MusicXML chorales; each JSB piece takes the meter
                               // and pickup of the file it matches (manifest "meters", docs/data.md)
  int threads = 0;             // worker threads; 0 = every core
  bool force = false;          // rebuild even when the inputs are unchanged
  bool progress = true;        // a progress bar (or lines) on stderr
};

struct PrepareResult {
  bool up_to_date = false;  // nothing was rebuilt
  std::array<size_t, 3> pieces{};  // train, valid, test
  std::array<size_t, 3> tokens{};
  size_t files = 0;       // inputs considered
  size_t skipped = 0;     // unreadable or unencodable inputs (listed in the manifest)
  size_t duplicates = 0;  // byte-identical copies of an earlier file
  size_t excluded = 0;    // matched a JSB valid/test piece
  size_t matched = 0;     // matched any JSB piece
  size_t meters = 0;      // --meters: JSB pieces that took a matching file's meter and pickup
  size_t meter_files = 0; // --meters: MusicXML files read (in 4/4 or 3/4)
  double seconds = 0;
  std::string manifest;   // path of manifest.json
};

// Throws std::runtime_error for a problem with the whole job (missing input, bad settings,
// unwritable output); problems with single files are skipped and reported in the result.
PrepareResult prepare_dataset(const PrepareSettings& settings);

}  // namespace bachgen::data
