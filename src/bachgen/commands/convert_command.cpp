// `bachgen convert`.
#include "bachgen/commands/convert_command.h"

#include <cctype>
#include <stdexcept>

#include "bachgen/data/jsb.h"
#include "bachgen/io/files.h"
#include "bachgen/io/zip_archive.h"
#include "bachgen/music/chorale_midi.h"
#include "bachgen/music/chorale_xml.h"
#include "bachgen/music/melody.h"
#include "bachgen/music/meter.h"
#include "bachgen/render/chorale_render.h"

namespace bachgen::commands {

namespace {

std::string base_name(const std::string& path) {
  std::string name = path.substr(path.find_last_of('/') + 1);
  const size_t dot = name.find_last_of('.');
  return dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
}

}  // namespace

music::Chorale read_any_chorale(const std::string& input, const std::vector<int>& voices, const std::string& jsb_file) {
  if (io::has_midi_extension(input)) return music::read_chorale_midi(input, voices);
  if (music::has_musicxml_extension(input)) return music::read_chorale_musicxml(input, voices);
  if (io::ends_with_any(input, {".txt"})) {
    if (!voices.empty()) throw std::runtime_error(input + ": the note text is one voice; --voices chooses among a file's parts");
    std::vector<uint8_t> bytes;
    try {
      bytes = io::read_file_bytes(input, 4u << 20);
    } catch (const std::exception& e) {
      throw std::runtime_error(input + ": " + e.what());
    }
    music::Melody m;
    try {
      m = music::parse_melody_text(std::string(bytes.begin(), bytes.end()));
    } catch (const std::exception& e) {
      throw std::runtime_error(input + ": " + e.what());
    }
    music::Chorale c = music::soprano_chorale(m);
    c.spellings.resize(m.steps());
    for (size_t t = 0; t < m.steps(); ++t) c.spellings[t] = {m.spellings[t], music::kUnspelled, music::kUnspelled, music::kUnspelled};
    c.start_at_first_note();
    return c;
  }
  if (input.find(':') != std::string::npos && !io::is_regular_file(input)) {
    if (!voices.empty()) throw std::runtime_error(input + ": a JSB piece is S A T B already; --voices is for files with more parts");
    music::Chorale c;
    try {
      c.grid = data::load_jsb_piece(data::parse_jsb_ref(input, jsb_file));
    } catch (const std::exception& e) {
      throw std::runtime_error(input + ": " + e.what());
    }
    c.start_at_first_note();
    return c;
  }
  throw std::runtime_error(input + ": not a file bachgen converts (.mid, .midi, .musicxml, .xml, .mxl, .txt, or a JSB piece SPLIT:INDEX)");
}

std::string run_convert(const ConvertSettings& s) {
  const std::string& out = s.output;
  const bool to_midi = io::has_midi_extension(out), to_mxl = io::ends_with_any(out, {".mxl"}),
             to_xml = io::ends_with_any(out, {".musicxml", ".xml"}), to_text = io::ends_with_any(out, {".txt"});
  if (!to_midi && !to_mxl && !to_xml && !to_text) {
    throw std::runtime_error(s.output + ": not a form bachgen writes (.mid, .midi, .musicxml, .xml, .mxl, .txt)");
  }
  static const std::string kVoiceLetters = "SATB";
  const size_t voice = kVoiceLetters.find(static_cast<char>(std::toupper(static_cast<unsigned char>(s.voice.empty() ? '?' : s.voice[0]))));
  if (s.voice.size() != 1 || voice == std::string::npos) throw std::runtime_error("--voice " + s.voice + ": one of S, A, T, B");
  const music::Chorale c = read_any_chorale(s.input, s.voices, s.jsb_file);
  const std::string title = s.title.empty() ? base_name(s.output) : s.title;
  if (to_midi) {
    io::write_file_atomically(s.output, render::chorale_midi(c));
  } else if (to_xml) {
    io::write_file_atomically(s.output, render::chorale_musicxml(c, title));
  } else if (to_mxl) {
    const std::string xml = render::chorale_musicxml(c, title);
    const std::string entry = base_name(s.output) + ".musicxml";
    const std::string container =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<container><rootfiles><rootfile full-path=\"" + entry +
        "\" media-type=\"application/vnd.recordare.musicxml+xml\"/></rootfiles></container>\n";
    auto bytes = [](const std::string& text) { return std::vector<uint8_t>(text.begin(), text.end()); };
    const std::vector<uint8_t> zip = io::make_zip({{"mimetype", bytes("application/vnd.recordare.musicxml")},
                                                   {"META-INF/container.xml", bytes(container)},
                                                   {entry, bytes(xml)}},
                                                  /*compress=*/true);
    io::write_file_atomically(s.output, zip);
  } else {
    io::write_file_atomically(s.output, music::melody_text(c, static_cast<int>(voice)) + "\n");
  }
  const music::KeyGuess key = c.key_or_guess();
  const int bar = c.steps_per_bar;
  return "wrote " + s.output + ": " + std::to_string(c.bars()) + " bar(s) in " +
         music::meter_name(bar) +
         (c.pickup_steps > 0 ? ", a pickup of " + std::to_string(c.pickup_steps) + " 16ths" : "") + ", " + key.name() +
         (c.key ? "" : " (guessed)") + "\n";
}

}  // namespace bachgen::commands
