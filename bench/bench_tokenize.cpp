// Tokenization against reading, per chorale MIDI file, and `prepare` throughput.
//   bench_tokenize MIDI_DIR OUT_DIR [--min-seconds S]
// For every file: the time to read it (file read + parse + note pairing: the MIDI read
// benchmark's work, what symusic's load does), and the time to turn the parsed file into
// tokens: Score -> 16th grid -> satb16-onset, and performance notes -> performance388 (each
// pairs the notes again itself, so the ratio is conservative). Then whole `prepare` runs
// (forced, all cores).
// Prints one JSON line.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "bachgen/data/prepare.h"
#include "bachgen/io/files.h"
#include "bachgen/midi/midi_reader.h"
#include "bachgen/midi/notes.h"
#include "bachgen/music/score.h"
#include "bachgen/tokenize/performance388.h"
#include "bachgen/tokenize/satb16.h"

using namespace bachgen;
using Clock = std::chrono::steady_clock;

static double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_tokenize MIDI_DIR OUT_DIR [--min-seconds S]\n");
    return 2;
  }
  const std::string dir = argv[1], out = argv[2];
  const double min_seconds = argc >= 5 ? std::atof(argv[4]) : 3.0;
  std::vector<std::string> paths;
  for (const std::string& name : io::list_midi_files(dir)) paths.push_back(dir + "/" + name);
  if (paths.empty()) return 1;

  // Read + parse vs tokenize, interleaved per file so both see the same caches.
  double read_s = 0, grid_s = 0, perf_s = 0;
  size_t files = 0, tokens = 0;
  const auto start = Clock::now();
  while (since(start) < min_seconds) {
    for (const std::string& p : paths) {
      auto t0 = Clock::now();
      const midi::MidiFile f = midi::parse_midi(io::read_file_bytes(p, midi::kMaxMidiFileBytes), p);
      tokens += midi::extract_notes(f).size() & 1;  // kept, so the pairing is not optimized away
      auto t1 = Clock::now();
      const std::vector<int32_t> g =
          tokenize::encode_satb16_onset(music::score_to_grid(music::score_from_midi(f)));
      auto t2 = Clock::now();
      const std::vector<int32_t> q = tokenize::encode_performance(tokenize::performance_notes(f));
      auto t3 = Clock::now();
      read_s += std::chrono::duration<double>(t1 - t0).count();
      grid_s += std::chrono::duration<double>(t2 - t1).count();
      perf_s += std::chrono::duration<double>(t3 - t2).count();
      tokens += g.size() + q.size();
      ++files;
    }
  }

  data::PrepareSettings s;
  s.source = "midi-chorales";
  s.path = dir;
  s.vocab = "satb16-onset";
  s.out = out;
  s.force = true;
  s.progress = false;
  int runs = 0;
  double prepare_s = 0;
  while (runs < 3 || prepare_s < min_seconds) {
    prepare_s += data::prepare_dataset(s).seconds;
    ++runs;
  }
  std::printf(
      "{\"files\": %zu, \"read_us\": %.2f, \"satb16_onset_us\": %.2f, \"performance388_us\": %.2f, "
      "\"satb16_onset_over_read\": %.2f, \"performance388_over_read\": %.2f, "
      "\"prepare_files_per_second\": %.0f, \"prepare_threads\": %u, \"tokens\": %zu}\n",
      files, read_s / files * 1e6, grid_s / files * 1e6, perf_s / files * 1e6, grid_s / read_s,
      perf_s / read_s, static_cast<double>(paths.size()) * runs / prepare_s,
      std::thread::hardware_concurrency(), tokens);
  return 0;
}
