// Building and printing the inspect summary.
#include "bachgen/midi/midi_summary.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bachgen/midi/tempo_map.h"

namespace bachgen::midi {

namespace {

std::string format_seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}

std::string division_text(Division d) {
  if (d.is_smpte()) {
    return std::to_string(d.smpte_fps()) + " fps x " + std::to_string(d.ticks_per_frame()) +
           " ticks (SMPTE)";
  }
  return std::to_string(d.ticks_per_quarter()) + " ticks/quarter";
}

double bpm_of(uint32_t us) { return us == 0 ? 0.0 : 60e6 / us; }

}  // namespace

MidiSummary summarize_midi(const MidiFile& file, std::string path, size_t bytes,
                           std::vector<ReadWarning> warnings) {
  MidiSummary s;
  s.path = std::move(path);
  s.bytes = bytes;
  s.format = file.format;
  s.division = file.division;
  s.warnings = std::move(warnings);
  const std::vector<Note> notes = extract_notes(file, {}, &s.note_stats);
  s.notes = static_cast<int64_t>(notes.size());

  std::vector<TempoMap> maps;  // format 2: one per track; otherwise one shared map
  if (file.format == 2) {
    for (size_t i = 0; i < file.tracks.size(); ++i) maps.push_back(TempoMap::of_track(file, i));
  } else {
    maps.push_back(TempoMap::of_file(file));
  }
  auto map_of = [&](size_t track) -> const TempoMap& {
    return maps.size() == 1 ? maps[0] : maps[std::min(track, maps.size() - 1)];
  };

  s.tracks.resize(file.tracks.size());
  for (size_t i = 0; i < file.tracks.size(); ++i) {
    const Track& t = file.tracks[i];
    TrackSummary& ts = s.tracks[i];
    ts.index = i;
    ts.name = t.name();
    ts.events = static_cast<int64_t>(t.events.size());
    ts.end_tick = t.end_tick;
    uint16_t channel_mask = 0;
    for (const Event& e : t.events) {
      if (e.is_channel()) channel_mask |= static_cast<uint16_t>(1u << e.channel());
      const double seconds = map_of(i).seconds_at(e.tick);
      if (auto us = decode_tempo(e)) s.tempos.push_back({i, e.tick, seconds, *us});
      if (auto ts2 = decode_time_signature(e)) s.time_signatures.push_back({i, e.tick, seconds, *ts2});
      if (auto ks = decode_key_signature(e)) s.key_signatures.push_back({i, e.tick, seconds, *ks});
    }
    for (int c = 0; c < 16; ++c) {
      if (channel_mask & (1u << c)) ts.channels.push_back(c);
    }
  }
  std::vector<int64_t> track_end(file.tracks.size(), 0);
  for (size_t i = 0; i < file.tracks.size(); ++i) track_end[i] = file.tracks[i].end_tick;
  for (const Note& n : notes) {
    TrackSummary& ts = s.tracks[static_cast<size_t>(n.track)];
    ++ts.notes;
    ts.lowest_pitch = ts.lowest_pitch < 0 ? n.pitch : std::min<int>(ts.lowest_pitch, n.pitch);
    ts.highest_pitch = std::max<int>(ts.highest_pitch, n.pitch);
    track_end[static_cast<size_t>(n.track)] = std::max(track_end[static_cast<size_t>(n.track)], n.end);
  }
  for (size_t i = 0; i < track_end.size(); ++i) {
    s.end_tick = std::max(s.end_tick, track_end[i]);
    s.duration_seconds = std::max(s.duration_seconds, map_of(i).seconds_at(track_end[i]));
  }
  auto by_time = [](const auto& a, const auto& b) { return a.tick < b.tick; };
  std::stable_sort(s.tempos.begin(), s.tempos.end(), by_time);
  std::stable_sort(s.time_signatures.begin(), s.time_signatures.end(), by_time);
  std::stable_sort(s.key_signatures.begin(), s.key_signatures.end(), by_time);
  return s;
}

std::string summary_to_json(const MidiSummary& s) {
  using nlohmann::json;
  json j;
  j["path"] = s.path;
  j["ok"] = true;
  j["bytes"] = s.bytes;
  j["format"] = s.format;
  if (s.division.is_smpte()) {
    j["division"] = {{"type", "smpte"},
                     {"frames_per_second", s.division.smpte_fps()},
                     {"ticks_per_frame", s.division.ticks_per_frame()}};
  } else {
    j["division"] = {{"type", "ticks_per_quarter"},
                     {"ticks_per_quarter", s.division.ticks_per_quarter()}};
  }
  j["notes"] = s.notes;
  j["end_tick"] = s.end_tick;
  j["duration_seconds"] = s.duration_seconds;
  json tracks = json::array();
  for (const TrackSummary& t : s.tracks) {
    json jt = {{"index", t.index},       {"name", t.name},     {"channels", t.channels},
               {"events", t.events},     {"notes", t.notes},   {"end_tick", t.end_tick},
               {"lowest_pitch", nullptr}, {"highest_pitch", nullptr}};
    if (t.notes > 0) {
      jt["lowest_pitch"] = t.lowest_pitch;
      jt["highest_pitch"] = t.highest_pitch;
    }
    tracks.push_back(std::move(jt));
  }
  j["tracks"] = std::move(tracks);
  json tempos = json::array();
  for (const TempoPoint& t : s.tempos) {
    tempos.push_back({{"track", t.track},
                      {"tick", t.tick},
                      {"seconds", t.seconds},
                      {"us_per_quarter", t.us_per_quarter},
                      {"bpm", bpm_of(t.us_per_quarter)}});
  }
  j["tempos"] = std::move(tempos);
  json sigs = json::array();
  for (const TimeSignaturePoint& t : s.time_signatures) {
    sigs.push_back({{"track", t.track},
                    {"tick", t.tick},
                    {"seconds", t.seconds},
                    {"numerator", t.signature.numerator},
                    {"denominator", t.signature.denominator}});
  }
  j["time_signatures"] = std::move(sigs);
  json keys = json::array();
  for (const KeySignaturePoint& k : s.key_signatures) {
    keys.push_back({{"track", k.track},
                    {"tick", k.tick},
                    {"seconds", k.seconds},
                    {"sharps_flats", k.signature.sharps_flats},
                    {"minor", k.signature.minor},
                    {"name", k.signature.name()}});
  }
  j["key_signatures"] = std::move(keys);
  j["note_pairing"] = {{"lone_note_offs", s.note_stats.lone_note_offs},
                       {"unended_notes", s.note_stats.unended_notes},
                       {"overlapping_notes", s.note_stats.overlapping_notes}};
  json warnings = json::array();
  for (const ReadWarning& w : s.warnings) {
    warnings.push_back({{"offset", w.offset}, {"message", w.message}});
  }
  j["warnings"] = std::move(warnings);
  // Replace invalid UTF-8 in track names rather than failing on odd files.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string summary_to_text(const MidiSummary& s) {
  std::ostringstream out;
  out << s.path << "\n";
  out << "  format " << s.format << ", " << division_text(s.division) << ", "
      << s.tracks.size() << " tracks, " << s.notes << " notes, "
      << format_seconds(s.duration_seconds) << " s (" << s.end_tick << " ticks), " << s.bytes
      << " bytes\n";
  for (const TrackSummary& t : s.tracks) {
    char line[256];
    std::string channels;
    for (int c : t.channels) channels += (channels.empty() ? "" : ",") + std::to_string(c);
    std::string range = t.notes > 0 ? std::to_string(t.lowest_pitch) + "-" +
                                          std::to_string(t.highest_pitch)
                                    : "-";
    std::snprintf(line, sizeof line, "  track %-3zu %-24.24s channels %-8s notes %-6lld pitch %s\n",
                  t.index, t.name.empty() ? "(no name)" : t.name.c_str(),
                  channels.empty() ? "-" : channels.c_str(), static_cast<long long>(t.notes),
                  range.c_str());
    out << line;
  }
  for (const TempoPoint& t : s.tempos) {
    char line[128];
    std::snprintf(line, sizeof line, "  tempo %.2f bpm (%u us/quarter) at tick %lld (%.3f s)\n",
                  bpm_of(t.us_per_quarter), t.us_per_quarter, static_cast<long long>(t.tick),
                  t.seconds);
    out << line;
  }
  for (const TimeSignaturePoint& t : s.time_signatures) {
    out << "  time signature " << t.signature.numerator << "/" << t.signature.denominator
        << " at tick " << t.tick << " (" << format_seconds(t.seconds) << " s)\n";
  }
  for (const KeySignaturePoint& k : s.key_signatures) {
    out << "  key signature " << k.signature.name() << " at tick " << k.tick << " ("
        << format_seconds(k.seconds) << " s)\n";
  }
  const NoteStats& ns = s.note_stats;
  if (ns.lone_note_offs || ns.unended_notes || ns.overlapping_notes) {
    out << "  note pairing: " << ns.lone_note_offs << " lone note-offs, " << ns.unended_notes
        << " unended notes, " << ns.overlapping_notes << " overlapping notes\n";
  }
  for (const ReadWarning& w : s.warnings) {
    out << "  warning: byte " << w.offset << ": " << w.message << "\n";
  }
  return out.str();
}

std::string summary_table_header() {
  char line[256];
  std::snprintf(line, sizeof line, "%-22s %3s %6s %6s  %-27s %5s %-16s %6s %8s %8s\n", "file",
                "fmt", "tracks", "notes", "pitch ranges", "meter", "key", "bpm", "quarters",
                "seconds");
  return line;
}

std::string summary_table_row(const MidiSummary& s) {
  const size_t slash = s.path.rfind('/');
  const std::string name = slash == std::string::npos ? s.path : s.path.substr(slash + 1);
  std::string ranges;
  for (const TrackSummary& t : s.tracks) {
    if (t.notes == 0) continue;
    if (!ranges.empty()) ranges += ' ';
    ranges += std::to_string(t.lowest_pitch) + "-" + std::to_string(t.highest_pitch);
  }
  const std::string meter =
      s.time_signatures.empty() ? "-"
                                : std::to_string(s.time_signatures[0].signature.numerator) + "/" +
                                      std::to_string(s.time_signatures[0].signature.denominator);
  const std::string key = s.key_signatures.empty() ? "-" : s.key_signatures[0].signature.name();
  const double bpm = bpm_of(s.tempos.empty() ? kDefaultTempo : s.tempos[0].us_per_quarter);
  const double quarters = s.division.is_smpte()
                              ? 0.0
                              : static_cast<double>(s.end_tick) / s.division.ticks_per_quarter();
  char line[512];
  std::snprintf(line, sizeof line, "%-22.22s %3d %6zu %6lld  %-27.27s %5s %-16.16s %6.1f %8.1f %8.1f\n",
                name.c_str(), s.format, s.tracks.size(), static_cast<long long>(s.notes),
                ranges.empty() ? "-" : ranges.c_str(), meter.c_str(), key.c_str(), bpm, quarters,
                s.duration_seconds);
  return line;
}

}  // namespace bachgen::midi
