// The prepare job: list inputs, hash them, skip if unchanged, encode in parallel, split,
// de-duplicate, exclude JSB hold-out matches, write shards and the manifest atomically.
#include "bachgen/data/prepare.h"

#include <sys/stat.h>

#include <algorithm>
#include <iterator>
#include <atomic>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "bachgen/data/chorale_corpus.h"
#include "bachgen/data/jsb.h"
#include "bachgen/data/token_input.h"
#include "bachgen/data/token_shard.h"
#include "bachgen/io/files.h"
#include "bachgen/io/progress.h"
#include "bachgen/midi/midi_reader.h"
#include "bachgen/music/chorale_xml.h"
#include "bachgen/music/score.h"
#include "bachgen/runtime/build_info.h"
#include "bachgen/tokenize/augment.h"
#include "bachgen/tokenize/performance388.h"
#include "bachgen/tokenize/satb16.h"

namespace bachgen::data {

namespace {

using nlohmann::json;

constexpr int kManifestVersion = 1;
constexpr size_t kMaxJsonBytes = size_t{64} << 20;

// ---------------------------------------------------------------------------------------------
// Inputs

struct Fnv64 {
  uint64_t h = 1469598103934665603ull;
  void add(const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < n; ++i) {
      h ^= p[i];
      h *= 1099511628211ull;
    }
  }
  void add(const std::string& s) { add(s.data(), s.size() + 1); }
  std::string hex() const {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
  }
};

// ---------------------------------------------------------------------------------------------
// Encoding one piece

struct Piece {
  std::string name;     // relative file name, or "train/12" for JSB
  bool ok = false;
  std::string error;    // why it was skipped
  uint64_t content = 0; // hash of the file's bytes (duplicates)
  Split split = Split::kTrain;
  std::vector<int32_t> tokens;
  bool has_grid = false;
  music::ChoraleGrid grid;  // for matching against JSB
  music::GridStats grid_stats;
};

void encode_midi_piece(const std::string& root, VocabId vocab, bool chorales, Piece& piece) {
  const std::string path = root + "/" + piece.name;
  try {
    const std::vector<uint8_t> bytes = io::read_file_bytes(path, midi::kMaxMidiFileBytes);
    Fnv64 h;
    h.add(bytes.data(), bytes.size());
    piece.content = h.h;
    const midi::MidiFile file = midi::parse_midi(bytes, path);
    const music::Score score = music::score_from_midi(file);
    if (score.voices() == music::kVoices && score.ticks_per_quarter % 4 == 0) {
      piece.grid = music::score_to_grid(score, {}, &piece.grid_stats);
      piece.has_grid = true;
    }
    if (vocab == VocabId::kPerformance388) {
      piece.tokens = tokenize::encode_performance(tokenize::performance_notes(file));
    } else if (!piece.has_grid) {
      throw std::runtime_error("has " + std::to_string(score.voices()) + " voices; " +
                               vocab_name(vocab) + " needs 4 (S, A, T, B)");
    } else {
      piece.tokens = encode_grid(piece.grid, vocab);
    }
    const auto name = chorales ? parse_chorale_file_name(piece.name) : std::nullopt;
    if (name) {
      piece.split = split_of_bwv(name->bwv);
    } else {  // any other file: by a hash of its relative path, 80 / 10 / 10
      Fnv64 p;
      p.add(piece.name);
      const uint64_t bucket = p.h % 100;
      piece.split = bucket < 80 ? Split::kTrain : bucket < 90 ? Split::kValid : Split::kTest;
    }
    piece.ok = true;
  } catch (const std::exception& e) {
    piece.error = e.what();
  }
}

// ---------------------------------------------------------------------------------------------
// The manifest

bool up_to_date(const std::string& out, const std::string& input_hash) {
  json m;
  try {
    const std::vector<uint8_t> bytes = io::read_file_bytes(out + "/manifest.json", kMaxJsonBytes);
    m = json::parse(bytes.begin(), bytes.end());
    if (m.value("input_hash", "") != input_hash) return false;
    for (Split s : kSplits) {
      const json& split = m.at("splits").at(split_name(s));
      struct stat st {};
      const std::string file = out + "/" + split.at("file").get<std::string>();
      if (::stat(file.c_str(), &st) != 0 || static_cast<uint64_t>(st.st_size) != split.at("bytes").get<uint64_t>()) {
        return false;
      }
    }
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

// --- the stages of prepare_dataset, in order ------------------------------------------------

// What the job reads: its kind, and the bytes or names that decide whether anything changed.
struct Inputs {
  VocabId vocab = VocabId::kSatb16;
  bool jsb_source = false;  // else MIDI files
  bool chorales = false;    // midi-chorales: the SATB chorale folder (not recursive)
  std::vector<std::string> names;     // MIDI sources: the files, relative to s.path
  std::vector<uint8_t> jsb_bytes;     // the JSB source
  std::vector<uint8_t> exclude_bytes; // --exclude-jsb
  std::string hash;                   // of the settings and every input
};

// 1. The settings, checked before anything is read.
Inputs check_settings(const PrepareSettings& s) {
  Inputs in;
  in.vocab = parse_vocab(s.vocab);
  in.jsb_source = s.source == "jsb";
  in.chorales = s.source == "midi-chorales";
  if (!in.jsb_source && !in.chorales && s.source != "midi-dir") {
    throw std::runtime_error("unknown --source '" + s.source + "' (jsb, midi-chorales or midi-dir)");
  }
  if (s.out.empty()) throw std::runtime_error("no output folder (--out)");
  if (in.jsb_source && !s.exclude_jsb.empty()) {
    throw std::runtime_error("--exclude-jsb is for MIDI sources; JSB keeps its own split");
  }
  if (!in.jsb_source && !s.meters.empty()) throw std::runtime_error("--meters is for the jsb source (MIDI files have their own meters)");
  if (!s.meters.empty() && !io::is_directory(s.meters)) throw std::runtime_error(s.meters + ": not a folder of MusicXML chorales");
  return in;
}

// Each file's name, size and modification time, as make would see them.
void add_listing(Fnv64& hash, const std::string& dir, const std::vector<std::string>& names) {
  for (const std::string& n : names) {
    struct stat st {};
    hash.add(n);
    if (::stat((dir + "/" + n).c_str(), &st) == 0) {
      const int64_t meta[3] = {static_cast<int64_t>(st.st_size), static_cast<int64_t>(st.st_mtim.tv_sec),
                               static_cast<int64_t>(st.st_mtim.tv_nsec)};
      hash.add(meta, sizeof meta);
    }
  }
}

// The MusicXML chorales of a --meters folder.
std::vector<std::string> musicxml_names(const std::string& dir) { return io::list_files(dir, {".xml", ".musicxml", ".mxl"}, false); }

// 2. The inputs and their hash: settings, then every input's name and bytes (the JSON files)
// or name, size and modification time (MIDI files, as make does, so that an unchanged rerun
// reads no file; their contents are hashed while encoding).
void hash_inputs(const PrepareSettings& s, Inputs& in) {
  Fnv64 input_hash;
  input_hash.add("prepare v" + std::to_string(kManifestVersion) + " " + s.source + " " + s.vocab);
  if (in.jsb_source) {
    try {
      in.jsb_bytes = io::read_file_bytes(s.path, kMaxJsonBytes);
    } catch (const std::exception& e) {
      throw std::runtime_error(s.path + ": " + e.what());
    }
    input_hash.add(in.jsb_bytes.data(), in.jsb_bytes.size());
  } else {
    if (!io::is_directory(s.path)) throw std::runtime_error(s.path + ": not a folder of MIDI files");
    in.names = io::list_midi_files(s.path, /*recursive=*/!in.chorales);
    if (in.names.empty()) throw std::runtime_error(s.path + ": no .mid or .midi files");
    add_listing(input_hash, s.path, in.names);
  }
  if (!s.meters.empty()) {
    input_hash.add("meters");
    add_listing(input_hash, s.meters, musicxml_names(s.meters));
  }
  if (!s.exclude_jsb.empty()) {
    try {
      in.exclude_bytes = io::read_file_bytes(s.exclude_jsb, kMaxJsonBytes);
    } catch (const std::exception& e) {
      throw std::runtime_error(s.exclude_jsb + ": " + e.what());
    }
    input_hash.add("exclude-jsb");
    input_hash.add(in.exclude_bytes.data(), in.exclude_bytes.size());
  }
  in.hash = input_hash.hex();
}

// 3. An unchanged rerun: the figures of the manifest already there.
void read_previous_result(PrepareResult& result) {
  const std::vector<uint8_t> bytes = io::read_file_bytes(result.manifest, kMaxJsonBytes);
  const json m = json::parse(bytes.begin(), bytes.end());
  for (Split sp : kSplits) {
    const size_t i = static_cast<size_t>(sp);
    result.pieces[i] = m["splits"][split_name(sp)]["pieces"].get<size_t>();
    result.tokens[i] = m["splits"][split_name(sp)]["tokens"].get<size_t>();
  }
  result.files = m["source"]["files"].get<size_t>();
  result.up_to_date = true;
}

// 4. Every piece encoded: the JSB pieces in their splits, or the MIDI files in parallel.
std::vector<Piece> encode_pieces(const PrepareSettings& s, const Inputs& in) {
  std::vector<Piece> pieces;
  if (in.jsb_source) {
    const JsbCorpus corpus =
        parse_jsb(std::string_view(reinterpret_cast<const char*>(in.jsb_bytes.data()), in.jsb_bytes.size()), s.path);
    for (Split sp : kSplits) {
      const auto& grids = corpus.split(split_name(sp));
      for (size_t i = 0; i < grids.size(); ++i) {
        Piece p;
        p.name = std::string(split_name(sp)) + "/" + std::to_string(i);
        p.split = sp;
        p.grid = grids[i];
        p.has_grid = true;
        try {
          p.tokens = encode_grid(p.grid, in.vocab);
          p.ok = true;
        } catch (const std::exception& e) {
          p.error = e.what();
        }
        pieces.push_back(std::move(p));
      }
    }
    return pieces;
  }
  pieces.resize(in.names.size());
  for (size_t i = 0; i < in.names.size(); ++i) pieces[i].name = in.names[i];
  const int threads = s.threads > 0 ? s.threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  std::atomic<size_t> next{0}, done{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < std::min<int>(threads, static_cast<int>(in.names.size())); ++t) {
    workers.emplace_back([&] {
      for (size_t i = next++; i < pieces.size(); i = next++) {
        encode_midi_piece(s.path, in.vocab, in.chorales, pieces[i]);
        ++done;
      }
    });
  }
  io::Progress progress("prepare", in.names.size(), "files", stderr);
  while (done.load() < in.names.size()) {
    if (s.progress) progress.update(done.load());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (std::thread& w : workers) w.join();
  return pieces;
}

// Which pieces go into the shards, and why the others do not (the manifest's lists).
struct Selection {
  std::vector<bool> keep;
  json skipped = json::array(), duplicates = json::array(), matches = json::array(), excluded = json::array();
};

// 5. Unreadable pieces and byte-identical copies of an earlier file are left out.
Selection drop_skipped_and_duplicates(const std::vector<Piece>& pieces, bool jsb_source, PrepareResult& result) {
  Selection sel;
  sel.keep.assign(pieces.size(), true);
  std::map<uint64_t, size_t> first_with_content;
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (!pieces[i].ok) {
      sel.keep[i] = false;
      ++result.skipped;
      sel.skipped.push_back({{"file", pieces[i].name}, {"error", pieces[i].error}});
      continue;
    }
    if (jsb_source) continue;
    const auto [it, fresh] = first_with_content.emplace(pieces[i].content, i);
    if (!fresh) {
      sel.keep[i] = false;
      ++result.duplicates;
      sel.duplicates.push_back({{"file", pieces[i].name}, {"duplicate_of", pieces[it->second].name}});
    }
  }
  return sel;
}

// 6. With --exclude-jsb: every piece that matches a JSB piece is listed; those that match a
// valid or test piece are left out (no test leak).
void exclude_jsb_holdout(const std::vector<Piece>& pieces, const Inputs& in, const std::string& exclude_name, Selection& sel,
                         PrepareResult& result) {
  if (in.exclude_bytes.empty()) return;
  const JsbCorpus holdout =
      parse_jsb(std::string_view(reinterpret_cast<const char*>(in.exclude_bytes.data()), in.exclude_bytes.size()), exclude_name);
  std::vector<music::ChoraleGrid> grids;
  std::vector<size_t> index_of;
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (sel.keep[i] && pieces[i].has_grid) {
      grids.push_back(pieces[i].grid);
      index_of.push_back(i);
    }
  }
  std::vector<bool> seen(pieces.size(), false);
  for (const ChoraleMatch& m : match_chorales(grids, holdout)) {
    const size_t i = index_of[m.midi_index];
    sel.matches.push_back({{"file", pieces[i].name},
                           {"jsb_split", split_name(m.jsb_split)},
                           {"jsb_index", m.jsb_index},
                           {"soprano_similarity", m.soprano},
                           {"bass_similarity", m.bass}});
    if (!seen[i]) ++result.matched;
    seen[i] = true;
    if (m.jsb_split != Split::kTrain && sel.keep[i]) {
      sel.keep[i] = false;
      ++result.excluded;
      sel.excluded.push_back({{"file", pieces[i].name},
                              {"reason", std::string("matches JSB ") + split_name(m.jsb_split) + " piece " + std::to_string(m.jsb_index)}});
    }
  }
}

// 6b. With --meters (jsb): each JSB piece's meter and pickup, from the MusicXML chorale it
// matches (chorale_corpus.h's matcher; the best soprano + bass similarity), kept only when the
// two agree on where the soprano changes pitch over their first bars, so that the JSB grid's
// first step is the file's first note. [steps_per_bar, bar_phase] or null, per piece.
std::vector<json> jsb_meters(const PrepareSettings& s, const Inputs& in, const std::vector<Piece>& pieces, PrepareResult& result) {
  std::vector<json> out(pieces.size());
  if (s.meters.empty()) return out;
  std::vector<music::Chorale> files;
  for (const std::string& n : musicxml_names(s.meters)) {
    try {
      music::Chorale c = music::read_chorale_musicxml(s.meters + "/" + n);
      if (c.steps_per_bar == 16 || c.steps_per_bar == 12) files.push_back(std::move(c));
    } catch (const std::exception&) {
      // A file that does not read (a change of meter, tuplets) gives no meter: not an error.
    }
  }
  result.meter_files = files.size();
  std::vector<music::ChoraleGrid> grids;
  for (const music::Chorale& c : files) grids.push_back(c.grid);
  const JsbCorpus corpus =
      parse_jsb(std::string_view(reinterpret_cast<const char*>(in.jsb_bytes.data()), in.jsb_bytes.size()), s.path);
  // Best match per JSB piece.
  std::map<std::pair<int, size_t>, std::pair<double, size_t>> best;
  for (const ChoraleMatch& m : match_chorales(grids, corpus)) {
    const auto key = std::make_pair(static_cast<int>(m.jsb_split), m.jsb_index);
    const double score = m.soprano + m.bass;
    auto it = best.find(key);
    if (it == best.end() || score > it->second.first) best[key] = {score, m.midi_index};
  }
  auto changes = [](const music::ChoraleGrid& g, size_t n) {
    std::vector<size_t> at;
    for (size_t t = 1; t < std::min(n, g.steps()); ++t) {
      if (g.pitches[t][0] != g.pitches[t - 1][0]) at.push_back(t);
    }
    return at;
  };
  for (size_t i = 0; i < pieces.size(); ++i) {
    const auto slash = pieces[i].name.find('/');
    const auto it = best.find({static_cast<int>(pieces[i].split), std::stoul(pieces[i].name.substr(slash + 1))});
    if (it == best.end()) continue;
    const music::Chorale& c = files[it->second.second];
    const size_t window = static_cast<size_t>(4 * c.steps_per_bar);
    const std::vector<size_t> a = changes(pieces[i].grid, window), b = changes(c.grid, window);
    std::vector<size_t> common;
    std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(common));
    if (a.empty() || 10 * common.size() < 9 * std::max(a.size(), b.size())) continue;  // not aligned at the first step
    out[i] = json::array({c.steps_per_bar, (c.steps_per_bar - c.pickup_steps) % c.steps_per_bar});
    ++result.meters;
  }
  return out;
}

// 7. The shards and the manifest, each written atomically.
void write_shards_and_manifest(const PrepareSettings& s, const Inputs& in, const std::vector<Piece>& pieces, const Selection& sel,
                               PrepareResult& result) {
  const VocabId vocab = in.vocab;
  std::array<TokenShard, 3> shards;
  std::array<json, 3> split_names, split_meters;
  const std::vector<json> meters = jsb_meters(s, in, pieces, result);
  tokenize::VoiceRanges ranges;
  music::GridStats grid_totals;
  for (auto& shard : shards) shard.vocab = vocab;
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (!sel.keep[i]) continue;
    const size_t sp = static_cast<size_t>(pieces[i].split);
    shards[sp].add_piece(pieces[i].tokens);
    split_names[sp].push_back(pieces[i].name);
    split_meters[sp].push_back(meters[i]);
    grid_totals.off_grid_onsets += pieces[i].grid_stats.off_grid_onsets;
    grid_totals.divisi_steps += pieces[i].grid_stats.divisi_steps;
    if (vocab != VocabId::kPerformance388 && pieces[i].split == Split::kTrain) {
      ranges.include(tokenize::chorale_voice_ranges(pieces[i].tokens.data(), pieces[i].tokens.size(), 1));
    }
  }
  json manifest;
  manifest["format"] = "bachgen-prepare";
  manifest["format_version"] = kManifestVersion;
  manifest["bachgen_version"] = runtime::version();
  manifest["input_hash"] = in.hash;
  manifest["source"] = {{"kind", s.source}, {"path", s.path}, {"files", pieces.size()}};
  json source_files = json::array();  // FNV-1a 64 of each input's bytes
  auto hex = [](uint64_t h) {
    Fnv64 f;
    f.h = h;
    return f.hex();
  };
  if (in.jsb_source) {
    Fnv64 h;
    h.add(in.jsb_bytes.data(), in.jsb_bytes.size());
    source_files.push_back({{"name", s.path}, {"fnv1a64", h.hex()}});
  } else {
    for (const Piece& p : pieces) source_files.push_back({{"name", p.name}, {"fnv1a64", p.ok ? hex(p.content) : ""}});
  }
  manifest["source_files"] = std::move(source_files);
  if (!s.exclude_jsb.empty()) manifest["source"]["exclude_jsb"] = s.exclude_jsb;
  manifest["vocab"] = {{"name", vocab_name(vocab)}, {"id", static_cast<uint32_t>(vocab)}, {"size", vocab_size(vocab)}};
  for (Split sp : kSplits) {
    const size_t i = static_cast<size_t>(sp);
    const std::string file = std::string(split_name(sp)) + ".tokens";
    const std::vector<uint8_t> bytes = encode_shard(shards[i]);
    io::write_file_atomically(s.out + "/" + file, bytes);
    result.pieces[i] = shards[i].pieces();
    result.tokens[i] = shards[i].tokens.size();
    manifest["splits"][split_name(sp)] = {{"file", file},
                                          {"pieces", shards[i].pieces()},
                                          {"tokens", shards[i].tokens.size()},
                                          {"bytes", bytes.size()},
                                          {"names", split_names[i].is_null() ? json::array() : split_names[i]}};
  }
  if (!s.meters.empty()) {
    manifest["source"]["meters"] = s.meters;
    for (Split sp : kSplits) {
      const size_t i = static_cast<size_t>(sp);
      manifest["meters"][split_name(sp)] = split_meters[i].is_null() ? json::array() : split_meters[i];
    }
  }
  if (vocab != VocabId::kPerformance388) manifest["voice_ranges"] = {{"lowest", ranges.lowest}, {"highest", ranges.highest}};
  if (!in.jsb_source) {
    manifest["grid"] = {{"off_grid_onsets", grid_totals.off_grid_onsets}, {"divisi_steps", grid_totals.divisi_steps}};
  }
  manifest["skipped"] = sel.skipped;
  manifest["duplicates"] = sel.duplicates;
  manifest["jsb_matches"] = sel.matches;
  manifest["excluded"] = sel.excluded;
  io::write_file_atomically(result.manifest, manifest.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
}

}  // namespace

PrepareResult prepare_dataset(const PrepareSettings& s) {
  PrepareResult result;
  Inputs in = check_settings(s);
  io::Progress timer("prepare", 0, "files", stderr);
  hash_inputs(s, in);
  io::make_directories(s.out);
  result.manifest = s.out + "/manifest.json";
  if (!s.force && up_to_date(s.out, in.hash)) {
    read_previous_result(result);
    result.seconds = timer.elapsed_seconds();
    return result;
  }
  const std::vector<Piece> pieces = encode_pieces(s, in);
  result.files = pieces.size();
  Selection selection = drop_skipped_and_duplicates(pieces, in.jsb_source, result);
  exclude_jsb_holdout(pieces, in, s.exclude_jsb, selection, result);
  write_shards_and_manifest(s, in, pieces, selection, result);
  result.seconds = timer.elapsed_seconds();
  return result;
}

}  // namespace bachgen::data
