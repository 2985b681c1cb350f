// libFuzzer target for the MIDI reader. Beyond "no crash", it checks properties on every input
// the reader accepts: note pairing, tempo map and summary run cleanly, and writing the file
// and reading it back gives the same model (abort otherwise, so the fuzzer reports it).
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "bachgen/midi/midi_reader.h"
#include "bachgen/midi/midi_summary.h"
#include "bachgen/midi/midi_writer.h"
#include "bachgen/midi/notes.h"
#include "bachgen/midi/tempo_map.h"

using namespace bachgen::midi;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<ReadWarning> warnings;
  MidiFile file;
  try {
    file = parse_midi(data, size, "fuzz-input", &warnings);
  } catch (const MidiError&) {
    return 0;  // rejected cleanly: fine
  }
  extract_notes(file, {OverlapRule::kFirstInFirstOut});
  extract_notes(file, {OverlapRule::kLastInFirstOut});
  const TempoMap map = TempoMap::of_file(file);
  for (const Track& t : file.tracks) map.tick_at(map.seconds_at(t.end_tick));
  const MidiSummary summary = summarize_midi(file, "fuzz-input", size, warnings);
  summary_to_json(summary);
  summary_to_text(summary);

  if (file.format == 0 && file.tracks.size() != 1) return 0;  // read leniently; not writable
  const std::vector<uint8_t> bytes = encode_midi(file);  // must not throw for reader output
  std::vector<ReadWarning> again_warnings;
  const MidiFile again = parse_midi(bytes, "fuzz-rewrite", &again_warnings);
  if (!(again == file) || !again_warnings.empty()) {
    std::fprintf(stderr, "write -> read round trip changed the file\n");
    std::abort();
  }
  return 0;
}
