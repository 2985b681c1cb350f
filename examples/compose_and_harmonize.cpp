// Composing and harmonizing through the library API alone, as a program of your own would:
// no command, no flags, no temp files. A Composer and a Harmonizer load their models once;
// a Chorale comes back in memory and becomes MIDI, MusicXML and WAV bytes, written here to
// the folder given (default: the current one).
//
//   build/examples/compose_and_harmonize [OUT_DIR]
#include <cstdio>
#include <exception>
#include <string>

#include "bachgen/generate/composer.h"
#include "bachgen/generate/errors.h"
#include "bachgen/generate/harmonizer.h"
#include "bachgen/io/files.h"
#include "bachgen/music/melody.h"
#include "bachgen/render/audio.h"
#include "bachgen/render/chorale_render.h"

using namespace bachgen;

namespace {

void save(const music::Chorale& chorale, const std::string& name, render::Synthesizer& synth) {
  const std::string midi = render::chorale_midi(chorale);
  io::write_file_atomically(name + ".mid", midi);
  io::write_file_atomically(name + ".musicxml", render::chorale_musicxml(chorale, name.substr(name.find_last_of('/') + 1)));
  io::write_file_atomically(name + ".wav", render::encode_audio(synth.render(midi), render::AudioFormat::kWav));
  std::printf("wrote %s.mid, .musicxml, .wav (%lld bars)\n", name.c_str(), static_cast<long long>(chorale.bars()));
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : ".";
  try {
    render::Synthesizer synth;  // the soundfont is loaded once

    // Compose eight bars in D minor from the bundled chorale model.
    generate::Composer composer("");  // "" = the bundled jsb-compose
    generate::ComposeOptions compose;
    compose.steps = 8 * 16;
    compose.key = music::parse_key("D minor");
    compose.seed = 7;
    generate::ComposeStats stats;
    const generate::Composition piece = composer.compose(compose, nullptr, &stats).at(0);
    std::printf("composed with %s (%s), %lld tokens at %.0f tokens/s; %s\n", composer.info().shape.c_str(),
                stats.decoder.c_str(), static_cast<long long>(stats.new_tokens), stats.tokens_per_second(),
                piece.key_change ? ("key: " + piece.key_change->to).c_str() : "");
    save(piece.chorale, dir + "/example-chorale", synth);

    // Harmonize a melody given as note text (music/melody.h), then redraw its alto and tenor in bar 2.
    generate::Harmonizer harmonizer("");  // the bundled jsb-harmonize
    const music::Melody melody = music::parse_melody_text("G4:1 | C5:1.5 D5:0.5 E5 E5 D5:1 | C5:2 r:1 B4:1 | C5:4 |");
    generate::HarmonizeOptions harmonize;
    harmonize.seed = 3;
    const music::Chorale harmonized = harmonizer.harmonize(melody, harmonize);
    save(harmonized, dir + "/example-harmonized", synth);
    generate::Selection bar2;
    bar2.first_bar = bar2.last_bar = 2;
    bar2.voices = {false, true, true, false};
    harmonize.seed = 4;
    save(harmonizer.redraw(harmonized, bar2, harmonize), dir + "/example-redrawn", synth);
  } catch (const generate::InputError& e) {
    std::fprintf(stderr, "compose_and_harmonize: %s: %s\n", generate::input_name(e.input), e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "compose_and_harmonize: %s\n", e.what());
    return 1;
  }
  return 0;
}
