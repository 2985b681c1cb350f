// Chorale output files.
#include "bachgen/commands/chorale_files.h"

#include <stdexcept>

#include "bachgen/io/files.h"
#include "bachgen/render/chorale_render.h"

namespace bachgen::commands {

std::string ChoraleFiles::write_audio(const std::string& midi_bytes, const std::string& name) {
  const std::string path = name + "." + render::audio_format_name(audio);
  try {
    if (!synthesizer) {
      render::AudioOptions options;
      options.soundfont = soundfont;
      synthesizer = std::make_unique<render::Synthesizer>(options);
    }
    render::write_audio_file(path, synthesizer->render(midi_bytes), audio);
  } catch (const std::exception& e) {
    const std::string what = e.what();
    throw std::runtime_error(what.rfind(path, 0) == 0 ? what : path + ": " + what);
  }
  return path;
}

std::vector<std::string> ChoraleFiles::write(const music::Chorale& chorale, const std::string& name) {
  std::vector<std::string> files;
  const std::string midi = render::chorale_midi(chorale);
  io::write_file_atomically(name + ".mid", midi);
  files.push_back(name + ".mid");
  io::write_file_atomically(name + ".musicxml", render::chorale_musicxml(chorale, name.substr(name.find_last_of('/') + 1)));
  files.push_back(name + ".musicxml");
  if (audio != render::AudioFormat::kNone) files.push_back(write_audio(midi, name));
  return files;
}

}  // namespace bachgen::commands
