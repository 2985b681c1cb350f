// Four-part MusicXML into a Chorale.
#include "bachgen/music/chorale_xml.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>

#include "bachgen/io/files.h"
#include "bachgen/music/musicxml_part.h"

namespace bachgen::music {

namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

bool ends_with(const std::string& text, const std::string& end) {
  return text.size() >= end.size() && text.compare(text.size() - end.size(), end.size(), end) == 0;
}

}  // namespace

bool has_musicxml_extension(const std::string& path) {
  const std::string l = lower(path);
  return ends_with(l, ".musicxml") || ends_with(l, ".xml") || ends_with(l, ".mxl");
}

Chorale parse_chorale_musicxml(const std::string& document, const std::string& name, const std::vector<int>& chosen) {
  pugi::xml_document doc;
  const pugi::xml_node root = load_score_partwise(doc, document, name);
  std::vector<pugi::xml_node> parts;
  for (const pugi::xml_node& part : root.children("part")) parts.push_back(part);
  const auto part_name = [&root](const pugi::xml_node& part) {
    const std::string id = part.attribute("id").as_string();
    for (const pugi::xml_node& entry : root.child("part-list").children("score-part")) {
      if (id == entry.attribute("id").as_string()) return std::string(entry.child("part-name").text().as_string());
    }
    return std::string();
  };
  std::array<pugi::xml_node, kVoices> satb;
  if (!chosen.empty()) {
    if (chosen.size() != kVoices) throw std::runtime_error(name + ": " + std::to_string(chosen.size()) + " parts chosen; choose four (S, A, T, B)");
    for (int v = 0; v < kVoices; ++v) {
      const int k = chosen[static_cast<size_t>(v)];
      if (k < 1 || static_cast<size_t>(k) > parts.size()) {
        throw std::runtime_error(name + ": there is no part " + std::to_string(k) + " (the score has " + std::to_string(parts.size()) + ")");
      }
      satb[static_cast<size_t>(v)] = parts[static_cast<size_t>(k - 1)];
    }
  } else if (parts.size() == kVoices) {
    std::copy(parts.begin(), parts.end(), satb.begin());
  } else {
    static const std::array<const char*, kVoices> kNames = {"soprano", "alto", "tenor", "bass"};
    for (int v = 0; v < kVoices; ++v) {
      for (const pugi::xml_node& part : parts) {
        if (!satb[static_cast<size_t>(v)] && lower(part_name(part)).find(kNames[static_cast<size_t>(v)]) != std::string::npos) {
          satb[static_cast<size_t>(v)] = part;
        }
      }
      if (!satb[static_cast<size_t>(v)]) {
        throw std::runtime_error(name + ": " + std::to_string(parts.size()) + " parts, and none named " + kNames[static_cast<size_t>(v)] +
                                 " (a chorale is four parts, S A T B, or four so named among more)");
      }
    }
  }
  std::array<PartLine, kVoices> lines;
  size_t steps = 0;
  for (int v = 0; v < kVoices; ++v) {
    const pugi::xml_node part = satb[static_cast<size_t>(v)];
    const std::string label = part_name(part);
    const std::string where = name + ": part " + part.attribute("id").as_string() + (label.empty() ? "" : " (" + label + ")");
    lines[static_cast<size_t>(v)] = read_musicxml_part(part, where, /*lowest=*/v == kVoices - 1);
    const PartLine& line = lines[static_cast<size_t>(v)];
    if (line.steps_per_bar != lines[0].steps_per_bar || line.pickup_steps != lines[0].pickup_steps) {
      throw std::runtime_error(where + ": its meter or pickup differs from the soprano's");
    }
    steps = std::max(steps, line.pitches.size());
  }
  Chorale c;
  c.steps_per_bar = lines[0].steps_per_bar;
  c.pickup_steps = lines[0].pickup_steps;
  if (lines[0].tempo_bpm > 0) c.tempo = lines[0].tempo_bpm;
  c.key = lines[0].key;
  GridStep rest;
  rest.fill(kSilent);
  c.grid.pitches.assign(steps, rest);
  c.grid.onsets.assign(steps, {false, false, false, false});
  c.fermatas.assign(steps, false);
  c.spellings.assign(steps, {kUnspelled, kUnspelled, kUnspelled, kUnspelled});
  for (int v = 0; v < kVoices; ++v) {
    const PartLine& line = lines[static_cast<size_t>(v)];
    for (size_t t = 0; t < line.pitches.size(); ++t) {
      c.grid.pitches[t][static_cast<size_t>(v)] = line.pitches[t];
      c.grid.onsets[t][static_cast<size_t>(v)] = line.onsets[t];
      if (line.fermatas[t]) c.fermatas[t] = true;
      if (t < line.spellings.size()) c.spellings[t][static_cast<size_t>(v)] = line.spellings[t];
    }
  }
  // Trailing silence is not part of the music.
  while (!c.grid.pitches.empty() && c.grid.pitches.back() == rest) {
    c.grid.pitches.pop_back();
    c.grid.onsets.pop_back();
    c.fermatas.pop_back();
    c.spellings.pop_back();
  }
  if (c.grid.pitches.empty()) throw std::runtime_error(name + ": the four parts have no notes");
  // The grid starts at the first note (Chorale's convention): leading rests go, and the pickup
  // is what then stands before the first bar line.
  c.start_at_first_note();
  return c;
}

Chorale parse_chorale_mxl(const std::vector<uint8_t>& archive, const std::string& name, const std::vector<int>& parts) {
  std::string entry;
  const std::string document = musicxml_of_mxl(archive, name, &entry);
  return parse_chorale_musicxml(document, name + ":" + entry, parts);
}

Chorale read_chorale_musicxml(const std::string& path, const std::vector<int>& parts) {
  std::vector<uint8_t> bytes;
  try {
    bytes = io::read_file_bytes(path, 64u << 20);
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  if (ends_with(lower(path), ".mxl")) return parse_chorale_mxl(bytes, path, parts);
  return parse_chorale_musicxml(std::string(bytes.begin(), bytes.end()), path, parts);
}

}  // namespace bachgen::music
