// Writes the fuzzer's seed corpus into a folder: small valid files covering every event kind,
// both divisions, all formats, the RMID wrapper, and truncated copies. Built in code so that
// no binary fixture is committed.
#include <sys/stat.h>

#include <cstdio>
#include <string>
#include <vector>

#include "bachgen/io/files.h"
#include "bachgen/midi/midi_writer.h"

using namespace bachgen::midi;

namespace {

MidiFile chorale_like(int format, Division division) {
  MidiFile f;
  f.format = format;
  f.division = division;
  Track& conductor = f.tracks.emplace_back();
  conductor.events = {Event::tempo(0, 714285), Event::time_signature(0, 3, 4),
                      Event::key_signature(0, -1, true), Event::text_event(0, meta::kMarker, "A"),
                      Event::tempo(960, 600000)};
  for (int voice = 0; voice < 4; ++voice) {
    Track& t = f.tracks.emplace_back();
    t.events.push_back(Event::text_event(0, meta::kTrackName, "Voice " + std::to_string(voice)));
    t.events.push_back(Event::program_change(0, voice, 52));
    int64_t tick = 0;
    for (int i = 0; i < 6; ++i) {
      const int pitch = 72 - 7 * voice + (i % 3);
      t.events.push_back(Event::note_on(tick, voice, pitch, 80));
      t.events.push_back(i % 2 ? Event::note_off(tick + 240, voice, pitch, 40)
                               : Event::note_on(tick + 240, voice, pitch, 0));
      tick += 240;
    }
    t.events.push_back(Event::control_change(tick, voice, 64, 127));
    t.events.push_back(Event::channel_message(tick, static_cast<uint8_t>(0xE0 | voice), 0, 64));
    t.end_tick = tick + 10;
  }
  Event sysex;
  sysex.type = EventType::kSysex;
  sysex.status = 0xF0;
  sysex.data = {0x7E, 0x7F, 0x09, 0x01, 0xF7};
  f.tracks[1].events.insert(f.tracks[1].events.begin(), sysex);
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_midi_seeds DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  ::mkdir(dir.c_str(), 0755);
  std::vector<std::vector<uint8_t>> seeds;
  seeds.push_back(encode_midi(chorale_like(1, Division::ticks_per_quarter(1024))));
  seeds.push_back(encode_midi(chorale_like(2, Division::smpte(25, 40)), {false}));
  seeds.push_back(encode_midi(merge_to_format0(chorale_like(1, Division::ticks_per_quarter(96)))));
  std::vector<uint8_t> rmid = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'R', 'M', 'I', 'D',
                               'd', 'a', 't', 'a'};
  const uint32_t n = static_cast<uint32_t>(seeds[2].size());
  for (int b = 0; b < 4; ++b) rmid.push_back(static_cast<uint8_t>(n >> (8 * b)));
  rmid.insert(rmid.end(), seeds[2].begin(), seeds[2].end());
  seeds.push_back(rmid);
  const size_t whole = seeds.size();
  for (size_t i = 0; i < whole; ++i) {  // truncated copies exercise the lenient paths
    std::vector<uint8_t> cut(seeds[i].begin(), seeds[i].begin() + seeds[i].size() * 2 / 3);
    seeds.push_back(cut);
  }
  for (size_t i = 0; i < seeds.size(); ++i) {
    bachgen::io::write_file_atomically(dir + "/seed-" + std::to_string(i) + ".mid", seeds[i]);
  }
  std::printf("%zu seeds written to %s\n", seeds.size(), dir.c_str());
  return 0;
}
