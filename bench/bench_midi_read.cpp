// Reads every .mid file of a folder, many rounds, in process: file read + parse + note pairing,
// the same work as bench/python/mido_read.py does with mido. Prints one JSON line.
//   bench_midi_read DIR [--min-seconds S] [--min-rounds N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bachgen/io/files.h"
#include "bachgen/midi/midi_reader.h"
#include "bachgen/midi/notes.h"

using namespace bachgen;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_midi_read DIR [--min-seconds S] [--min-rounds N]\n");
    return 2;
  }
  const std::string dir = argv[1];
  double min_seconds = 3.0;
  int min_rounds = 5;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--min-seconds") min_seconds = std::atof(argv[i + 1]);
    if (flag == "--min-rounds") min_rounds = std::atoi(argv[i + 1]);
  }
  std::vector<std::string> paths;
  for (const std::string& name : io::list_midi_files(dir)) paths.push_back(dir + "/" + name);
  if (paths.empty()) {
    std::fprintf(stderr, "bench_midi_read: no .mid files in %s\n", dir.c_str());
    return 1;
  }
  size_t bytes_per_round = 0;
  size_t notes_per_round = 0;
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  int rounds = 0;
  double elapsed = 0;
  while (rounds < min_rounds || elapsed < min_seconds) {
    size_t bytes = 0, notes = 0;
    for (const std::string& p : paths) {
      const std::vector<uint8_t> data = io::read_file_bytes(p, midi::kMaxMidiFileBytes);
      const midi::MidiFile f = midi::parse_midi(data, p);
      notes += midi::extract_notes(f).size();
      bytes += data.size();
    }
    bytes_per_round = bytes;
    notes_per_round = notes;
    ++rounds;
    elapsed = std::chrono::duration<double>(clock::now() - start).count();
  }
  const double files = static_cast<double>(paths.size()) * rounds;
  std::printf(
      "{\"tool\": \"bachgen\", \"files\": %zu, \"rounds\": %d, \"seconds\": %.6f, "
      "\"notes_per_round\": %zu, \"files_per_second\": %.1f, \"mb_per_second\": %.3f}\n",
      paths.size(), rounds, elapsed, notes_per_round, files / elapsed,
      static_cast<double>(bytes_per_round) * rounds / elapsed / 1e6);
  return 0;
}
